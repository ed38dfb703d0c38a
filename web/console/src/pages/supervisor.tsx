import { lazy, Suspense, useCallback, useEffect, useState, type FormEvent } from 'react'
import { ApiError, supervisorApi, type SupervisorAgent, type SupervisorCharts, type SupervisorQueues } from '../api.ts'

// The supervisor view (issue 11, item 4): queues and agents, read again every POLL_MS while the
// page is shown; status change and force-logout per agent; charts over a date range, drawn by
// uPlot, which is loaded only on this page (its own chunk), so the rest of the console stays small.

const Charts = lazy(() => import('./supervisor-charts.tsx'))
const POLL_MS = 2000

const errorText = (err: unknown) => err instanceof ApiError ? err.message : 'Could not reach the server'

/** Seconds as `1 h 02 min`, `3 min 05 s`, `42 s`. */
export function duration(seconds: number | null): string {
  if (seconds === null) return 'unbounded'
  const s = Math.round(seconds)
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`
}

const day = (d: Date) => d.toISOString().slice(0, 10)

export function Supervisor() {
  const [queues, setQueues] = useState<SupervisorQueues | undefined>(undefined)
  const [agents, setAgents] = useState<{ agents: SupervisorAgent[]; statuses: string[] } | undefined>(undefined)
  const [updated, setUpdated] = useState<Date | null>(null)
  const [error, setError] = useState('')

  const refresh = useCallback(async () => {
    try {
      // Before a contact-center setup is loaded there are no queues (400 contact_center_not_set_up).
      const noQueues = (err: unknown) => {
        if (err instanceof ApiError && err.code === 'contact_center_not_set_up') return { target_seconds: 60, window_hours: 24, queues: [] }
        throw err
      }
      const [q, a] = await Promise.all([supervisorApi.queues().catch(noQueues), supervisorApi.agents()])
      setQueues(q)
      setAgents(a)
      setUpdated(new Date())
      setError('')
    } catch (err) {
      setError(errorText(err))
    }
  }, [])

  useEffect(() => {
    void refresh()
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') void refresh()
    }, POLL_MS)
    return () => window.clearInterval(timer)
  }, [refresh])

  return (
    <main className="page">
      <div className="ws-head">
        <h1>Supervisor</h1>
        <span className="badge live">{updated ? `Live · updated ${updated.toLocaleTimeString()}` : 'Loading…'}</span>
      </div>
      <p className="error" role="alert">{error}</p>
      <QueuesTable queues={queues} />
      <AgentsTable agents={agents} onChanged={refresh} />
      <ChartsSection />
    </main>
  )
}

function QueuesTable({ queues }: { queues: SupervisorQueues | undefined }) {
  return (
    <section aria-labelledby="queues-h">
      <h2 id="queues-h">Queues</h2>
      {queues && <p className="hint">Service level: the share of the sessions queued in the last {queues.window_hours} hours answered within {queues.target_seconds} s (abandoned ones count against it).</p>}
      <div className="scroll-x">
        <table className="list labelled" id="queues">
          <thead><tr><th scope="col">Queue</th><th scope="col">Waiting</th><th scope="col">Estimated wait</th><th scope="col">Longest wait</th><th scope="col">Service level</th><th scope="col">Agents signed in / available</th></tr></thead>
          <tbody>
            {queues?.queues.map((q) => (
              <tr key={q.id} data-queue={q.name}>
                <th scope="row">{q.name} <span className="badge">{q.channels.join(', ')}</span>{q.after_hours && <span className="badge"> closed</span>}</th>
                <td data-label="Waiting" data-cell="waiting">{q.waiting}</td>
                <td data-label="Estimated wait">{duration(q.estimated_wait_seconds)}</td>
                <td data-label="Longest wait">{duration(q.longest_wait_seconds)}</td>
                <td data-label="Service level">{q.service_level === null ? '—' : `${Math.round(q.service_level * 100)} %`} <span className="hint">({q.answered_within_target} of {q.answered + q.unanswered})</span></td>
                <td data-label="Agents signed in / available">{q.logged_in_agents} / {q.available_agents}</td>
              </tr>
            ))}
            {queues && queues.queues.length === 0 && <tr><td colSpan={6}>No queues (is the contact center set up?).</td></tr>}
          </tbody>
        </table>
      </div>
    </section>
  )
}

function AgentsTable({ agents, onChanged }: { agents: { agents: SupervisorAgent[]; statuses: string[] } | undefined; onChanged: () => Promise<void> }) {
  const [choice, setChoice] = useState<Record<number, string>>({})
  const [done, setDone] = useState('')
  const [error, setError] = useState('')
  const counts = new Map<string, number>()
  for (const a of agents?.agents ?? []) counts.set(a.status, (counts.get(a.status) ?? 0) + 1)

  const act = async (what: () => Promise<{ agent: SupervisorAgent; current_status: string; message: string | null }>) => {
    setDone('')
    setError('')
    try {
      const r = await what()
      setDone(r.message ? `${r.agent.name}: ${r.message}` : `${r.agent.name} is now ${r.current_status}${r.agent.logout_pending ? ' (logged out when the current session ends)' : ''}`)
      await onChanged()
    } catch (err) {
      setError(errorText(err))
    }
  }

  return (
    <section aria-labelledby="agents-h">
      <h2 id="agents-h">Agents</h2>
      <ul className="row plain" aria-label="Agents by status">
        {[...counts].sort(([x], [y]) => x.localeCompare(y)).map(([status, n]) => <li key={status} className="badge">{status}: {n}</li>)}
      </ul>
      <p className="done" role="status">{done}</p>
      <p className="error" role="alert">{error}</p>
      <div className="scroll-x">
        <table className="list labelled" id="agents">
          <thead><tr><th scope="col">Agent</th><th scope="col">Status</th><th scope="col">Since</th><th scope="col">Teams</th><th scope="col">Actions</th></tr></thead>
          <tbody>
            {agents?.agents.map((a) => {
              const chosen = choice[a.id] ?? agents.statuses[0] ?? ''
              return (
                <tr key={a.id} data-agent={a.email}>
                  <th scope="row">{a.name}</th>
                  <td data-label="Status" data-cell="status">{a.status}{a.logout_pending && <span className="badge"> logging out</span>}</td>
                  <td data-label="Since">{new Date(a.status_since).toLocaleString()}</td>
                  <td data-label="Teams">{a.teams.join(', ')}</td>
                  <td data-label="Actions">
                    <form className="row" onSubmit={(e: FormEvent) => {
                      e.preventDefault()
                      void act(() => supervisorApi.setStatus(a.id, chosen))
                    }}>
                      <label className="visually-hidden" htmlFor={`status-${a.id}`}>New status for {a.name}</label>
                      <select id={`status-${a.id}`} value={chosen} onChange={(e) => setChoice({ ...choice, [a.id]: e.target.value })}>
                        {agents.statuses.map((s) => <option key={s} value={s}>{s}</option>)}
                      </select>
                      <button type="submit" className="small" aria-label={`Set status of ${a.name}`}>Set</button>
                      <button type="button" className="small secondary" disabled={a.status === 'Offline'} aria-label={`Force logout ${a.name}`}
                        onClick={() => void act(() => supervisorApi.forceLogout(a.id))}>Force logout</button>
                    </form>
                  </td>
                </tr>
              )
            })}
            {agents && agents.agents.length === 0 && <tr><td colSpan={5}>No agents.</td></tr>}
          </tbody>
        </table>
      </div>
    </section>
  )
}

function ChartsSection() {
  const today = new Date()
  const [from, setFrom] = useState(day(new Date(today.getTime() - 6 * 86_400_000)))
  const [to, setTo] = useState(day(today))
  const [data, setData] = useState<SupervisorCharts | undefined>(undefined)
  const [error, setError] = useState('')

  const load = useCallback(async (f: string, t: string) => {
    setError('')
    try {
      // Whole UTC days, `to` included.
      const end = new Date(`${t}T00:00:00Z`)
      setData(await supervisorApi.charts(`${f}T00:00:00Z`, new Date(end.getTime() + 86_400_000).toISOString()))
    } catch (err) {
      setError(errorText(err))
    }
  }, [])
  useEffect(() => {
    void load(from, to)
    // Only the first range loads by itself; later ones on Show.
  }, [load])

  return (
    <section aria-labelledby="charts-h">
      <h2 id="charts-h">Charts</h2>
      <form className="row" onSubmit={(e) => {
        e.preventDefault()
        void load(from, to)
      }}>
        <label htmlFor="chart-from">From</label>
        <input id="chart-from" type="date" value={from} required onChange={(e) => setFrom(e.target.value)} />
        <label htmlFor="chart-to">To</label>
        <input id="chart-to" type="date" value={to} required onChange={(e) => setTo(e.target.value)} />
        <button type="submit">Show</button>
      </form>
      <p className="hint">Days and hours in UTC; a range of up to two days is drawn by the hour.</p>
      <p className="error" role="alert">{error}</p>
      {data && <Suspense fallback={<p role="status">Loading charts…</p>}><Charts data={data} /></Suspense>}
    </section>
  )
}
