import { useEffect, useRef } from 'react'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import type { SupervisorCharts } from '../api.ts'

// The supervisor view's charts, drawn with uPlot (a canvas chart of about 20 KB gzipped). This
// module is its own chunk, imported only by the supervisor page. Each chart has its numbers as a
// table beside it (for screen readers and for exact values).

const PALETTE = ['#0b5cad', '#1d7a3a', '#a4141c', '#7a4b00', '#5b2a86', '#006d77', '#444444']

/** One uPlot chart in a div that follows its container's width. */
function Plot({ options, data, label }: { options: Omit<uPlot.Options, 'width' | 'height'>; data: uPlot.AlignedData; label: string }) {
  const box = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const el = box.current
    if (!el) return
    const width = () => Math.max(280, el.clientWidth)
    const plot = new uPlot({ ...options, width: width(), height: 240 }, data, el)
    const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: 240 }))
    resize.observe(el)
    return () => {
      resize.disconnect()
      plot.destroy()
    }
  }, [options, data])
  return <div ref={box} className="chart" role="img" aria-label={label} />
}

const when = (iso: string, bucket: 'hour' | 'day') => bucket === 'hour' ? iso.slice(0, 16).replace('T', ' ') : iso.slice(0, 10)

/** Counts and seconds start at zero. */
const fromZero: uPlot.Scale = { range: (_u, _min, max) => [0, max > 0 ? Math.ceil(max * 1.1) : 1] }

export default function Charts({ data }: { data: SupervisorCharts }) {
  // Time charts span the asked range, so one busy day does not fill the whole axis.
  const range: uPlot.Scale = { time: true, range: [Date.parse(data.from) / 1000, Date.parse(data.to) / 1000] }
  // Volume: one line per channel over the buckets.
  const times = [...new Set(data.volume.map((v) => v.at))].sort()
  const channels = [...new Set(data.volume.map((v) => v.channel))].sort()
  const volume: uPlot.AlignedData = [
    times.map((t) => Date.parse(t) / 1000),
    ...channels.map((c) => times.map((t) => data.volume.find((v) => v.at === t && v.channel === c)?.count ?? 0)),
  ]
  const volumeOptions: Omit<uPlot.Options, 'width' | 'height'> = {
    scales: { x: range, y: fromZero }, axes: [{}, { label: 'sessions and messages' }],
    series: [{ label: 'time' }, ...channels.map((c, i) => ({ label: c, stroke: PALETTE[i % PALETTE.length], width: 2, points: { show: true } }))],
  }

  // Delivery: one bar per provider and status.
  const pairs = data.delivery.map((d) => `${d.provider} · ${d.status}`)
  const delivery: uPlot.AlignedData = [pairs.map((_, i) => i), data.delivery.map((d) => d.count)]
  const deliveryOptions: Omit<uPlot.Options, 'width' | 'height'> = {
    scales: { x: { time: false, range: [-0.5, Math.max(0.5, pairs.length - 0.5)] }, y: fromZero },
    axes: [{ splits: () => pairs.map((_, i) => i), values: (_u, splits) => splits.map((i) => pairs[i] ?? '') }, { label: 'messages' }],
    series: [{ label: 'provider · status' }, { label: 'messages', fill: '#0b5cad', stroke: '#0b4a8c', paths: uPlot.paths.bars!({ size: [0.6, 80] }), points: { show: false } }],
  }

  // First response: median, 90th percentile and average seconds per bucket.
  const fr = data.first_response
  const firstResponse: uPlot.AlignedData = [fr.map((f) => Date.parse(f.at) / 1000), fr.map((f) => f.median_seconds), fr.map((f) => f.p90_seconds), fr.map((f) => f.average_seconds)]
  const firstOptions: Omit<uPlot.Options, 'width' | 'height'> = {
    scales: { x: range, y: fromZero }, axes: [{}, { label: 'seconds' }],
    series: [{ label: 'time' }, ...['median', '90th percentile', 'average'].map((label, i) => ({ label, stroke: PALETTE[i], width: 2, points: { show: true } }))],
  }

  return (
    <div className="charts">
      <figure>
        <figcaption>Volume by channel ({data.bucket === 'hour' ? 'per hour' : 'per day'})</figcaption>
        {times.length ? <Plot options={volumeOptions} data={volume} label="Volume by channel over time; the numbers are in the table below" /> : <p>Nothing in this range.</p>}
        <details><summary>Volume as a table</summary>
          <table className="list labelled"><thead><tr><th scope="col">{data.bucket}</th>{channels.map((c) => <th scope="col" key={c}>{c}</th>)}</tr></thead>
            <tbody>{times.map((t, i) => <tr key={t}><th scope="row">{when(t, data.bucket)}</th>{channels.map((c, j) => <td key={c} data-label={c}>{volume[j + 1]![i]}</td>)}</tr>)}</tbody></table>
        </details>
      </figure>
      <figure>
        <figcaption>Delivery outcomes by provider</figcaption>
        {pairs.length ? <Plot options={deliveryOptions} data={delivery} label="Outbound messages per provider and status; the numbers are in the table below" /> : <p>Nothing in this range.</p>}
        <details><summary>Delivery outcomes as a table</summary>
          <table className="list labelled"><thead><tr><th scope="col">Provider</th><th scope="col">Status</th><th scope="col">Messages</th></tr></thead>
            <tbody>{data.delivery.map((d) => <tr key={`${d.provider}/${d.status}`}><th scope="row">{d.provider}</th><td data-label="Status">{d.status}</td><td data-label="Messages">{d.count}</td></tr>)}</tbody></table>
        </details>
      </figure>
      <figure>
        <figcaption>Chat first-response time (seconds from the chat’s start to the first agent message)</figcaption>
        {fr.length ? <Plot options={firstOptions} data={firstResponse} label="Chat first-response time over time; the numbers are in the table below" /> : <p>No answered chats in this range.</p>}
        <details><summary>First-response times as a table</summary>
          <table className="list labelled"><thead><tr><th scope="col">{data.bucket}</th><th scope="col">Chats</th><th scope="col">Median</th><th scope="col">90th percentile</th><th scope="col">Average</th></tr></thead>
            <tbody>{fr.map((f) => <tr key={f.at}><th scope="row">{when(f.at, data.bucket)}</th><td data-label="Chats">{f.sessions}</td><td data-label="Median">{f.median_seconds} s</td><td data-label="90th percentile">{f.p90_seconds} s</td><td data-label="Average">{f.average_seconds} s</td></tr>)}</tbody></table>
        </details>
      </figure>
    </div>
  )
}
