import { useCallback, useEffect, useLayoutEffect, useReducer, useRef, useState, type UIEvent } from 'react'
import { api, ApiError, type TimelineEvent } from '../api.ts'

const CHANNELS: Record<string, string> = { messaging: 'Care-team channel', sms: 'SMS', webchat: 'Web chat', email: 'Email', push: 'Push', sandbox: 'Sandbox', voice: 'Voice', whatsapp: 'WhatsApp', messenger: 'Messenger', console: 'Console' }
const ACTIONS: Record<string, string> = { person_edited: 'edited', consent_given: 'consent given', consent_withdrawn: 'consent withdrawn', suppression_added: 'suppressed', suppression_lifted: 'suppression lifted' }
const when = (iso: string) => new Date(iso).toLocaleString()
/** An entry's height before it is measured (px), and how much to render beyond the viewport. */
const ESTIMATE = 84
const OVERSCAN = 600
const PAGE = 200

const keyOf = (e: TimelineEvent) => `${e.id}-${e.direction ?? 'action'}`
/** Newest first: by time, then by id (the API's order). */
const newestFirst = (x: TimelineEvent, y: TimelineEvent) => (x.created_at === y.created_at ? (x.id < y.id ? 1 : x.id > y.id ? -1 : 0) : x.created_at < y.created_at ? 1 : -1)

/**
 * A person's timeline: the newest page, older pages as the list scrolls to its end, and new entries
 * as they arrive (the API's event stream says when; the newest page is read again and merged).
 * Windowed: only the entries in and near the viewport are in the DOM, each measured as rendered,
 * so thousands of entries scroll smoothly. `refresh` changes when the page itself changed something.
 */
export function Timeline({ personId, refresh }: { personId: string; refresh: number }) {
  const [events, setEvents] = useState<TimelineEvent[] | undefined>(undefined)
  const [next, setNext] = useState<string | null>(null)
  const [error, setError] = useState('')
  const [fresh, setFresh] = useState(0)
  const loadingMore = useRef(false)
  const known = useRef(new Set<string>())

  const merge = useCallback((incoming: TimelineEvent[], older: boolean) => {
    const added = incoming.filter((e) => !known.current.has(keyOf(e)))
    for (const e of added) known.current.add(keyOf(e))
    if (added.length === 0) return 0
    setEvents((cur) => (older ? [...(cur ?? []), ...added] : [...added, ...(cur ?? [])].sort(newestFirst)))
    return added.length
  }, [])

  const readNewest = useCallback(async (announce: boolean) => {
    try {
      const page = await api.timeline(personId, { limit: PAGE })
      const n = merge(page.events, false)
      setEvents((cur) => cur ?? [])
      if (announce && n > 0) setFresh((f) => f + n)
      return page
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not reach the server')
      return undefined
    }
  }, [personId, merge])

  // The first page, and a fresh start when the person changes.
  useEffect(() => {
    known.current = new Set()
    setEvents(undefined)
    setError('')
    setFresh(0)
    void readNewest(false).then((page) => setNext(page?.next_cursor ?? null))
  }, [personId, readNewest])

  // What this page did (an action) shows at once, without waiting for the stream.
  useEffect(() => {
    if (refresh > 0) void readNewest(false)
  }, [refresh, readNewest])

  // Live: each `changed` (and a reconnect's `ready`) reads the newest page again.
  useEffect(() => {
    const source = new EventSource(api.timelineStream(personId))
    let reading = false
    let again = false
    const read = () => {
      if (reading) {
        again = true
        return
      }
      reading = true
      void readNewest(true).finally(() => {
        reading = false
        if (again) {
          again = false
          read()
        }
      })
    }
    source.addEventListener('changed', read)
    source.addEventListener('ready', read)
    return () => source.close()
  }, [personId, readNewest])

  const loadOlder = useCallback(async () => {
    if (!next || loadingMore.current) return
    loadingMore.current = true
    try {
      const page = await api.timeline(personId, { limit: PAGE, before: next })
      merge(page.events, true)
      setNext(page.next_cursor)
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not reach the server')
    } finally {
      loadingMore.current = false
    }
  }, [next, personId, merge])

  if (error && !events) return <p role="alert" className="error">{error}</p>
  if (!events) return <p role="status">Loading…</p>
  if (events.length === 0) return <p>Nothing yet.</p>
  return (
    <>
      <p role="status" className="visually-hidden">{fresh > 0 ? `${fresh} new ${fresh === 1 ? 'entry' : 'entries'}` : ''}</p>
      {error ? <p role="alert" className="error">{error}</p> : null}
      <WindowedList events={events} more={next !== null} onNearEnd={loadOlder} />
    </>
  )
}

/** The list itself: padding stands in for the entries above and below the rendered window. */
function WindowedList({ events, more, onNearEnd }: { events: TimelineEvent[]; more: boolean; onNearEnd: () => void }) {
  const scroller = useRef<HTMLDivElement>(null)
  const heights = useRef(new Map<string, number>())
  const [, remeasured] = useReducer((n: number) => n + 1, 0)
  const [view, setView] = useState({ top: 0, height: 600 })
  const observer = useRef<ResizeObserver | null>(null)

  useLayoutEffect(() => {
    const el = scroller.current
    if (!el) return
    setView({ top: el.scrollTop, height: el.clientHeight })
    observer.current = new ResizeObserver((entries) => {
      let changed = false
      for (const entry of entries) {
        const target = entry.target as HTMLElement
        const key = target.dataset.key
        if (!key) {
          setView((v) => ({ ...v, height: target.clientHeight }))
          continue
        }
        const h = Math.round(target.getBoundingClientRect().height)
        if (h > 0 && heights.current.get(key) !== h) {
          heights.current.set(key, h)
          changed = true
        }
      }
      if (changed) remeasured()
    })
    observer.current.observe(el)
    return () => observer.current?.disconnect()
  }, [])

  // Where each entry starts (px), from measured heights or the estimate.
  const offsets = new Array<number>(events.length + 1)
  offsets[0] = 0
  for (let i = 0; i < events.length; i++) offsets[i + 1] = offsets[i]! + (heights.current.get(keyOf(events[i]!)) ?? ESTIMATE)
  const total = offsets[events.length]!
  const from = Math.max(0, view.top - OVERSCAN)
  const to = view.top + view.height + OVERSCAN
  let start = 0
  let lo = 0
  let hi = events.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (offsets[mid + 1]! <= from) lo = mid + 1
    else hi = mid
  }
  start = lo
  let end = start
  while (end < events.length && offsets[end]! < to) end++

  useEffect(() => {
    if (more && end >= events.length - 20) onNearEnd()
  }, [more, end, events.length, onNearEnd])

  const onScroll = (e: UIEvent<HTMLDivElement>) => setView({ top: e.currentTarget.scrollTop, height: e.currentTarget.clientHeight })
  const measure = (el: HTMLLIElement | null) => {
    const o = observer.current
    if (!el || !o) return undefined
    o.observe(el)
    return () => o.unobserve(el)
  }

  return (
    <div ref={scroller} className="timeline-scroll" tabIndex={0} onScroll={onScroll} role="region" aria-label={`Timeline, ${events.length}${more ? '+' : ''} entries, newest first`}>
      <ol className="events" style={{ paddingTop: offsets[start], paddingBottom: total - offsets[end]! }}>
        {events.slice(start, end).map((e, i) => (
          <li key={keyOf(e)} ref={measure} data-key={keyOf(e)} aria-posinset={start + i + 1} aria-setsize={more ? -1 : events.length}
            className="event-row">
            <div className={`event ${e.kind === 'message' ? e.direction ?? '' : 'action'}`}>
            <div className="meta">
              <span className="badge">{CHANNELS[e.channel] ?? e.channel}</span>
              <span>{e.kind !== 'message' ? `${ACTIONS[e.kind] ?? e.kind} · by ${(e.actor ?? '').replace(/^console:/, '')}` : e.direction === 'in' ? 'from them' : e.thread_name ? `bot · ${e.thread_name}` : 'to them'}</span>
              <time dateTime={e.created_at}>{when(e.created_at)}</time>
            </div>
            <p className="text">{e.text}</p>
            </div>
          </li>
        ))}
      </ol>
      {more ? <p className="more" role="status">Loading older entries…</p> : null}
    </div>
  )
}
