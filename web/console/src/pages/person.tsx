import { useEffect, useState } from 'react'
import { api, ApiError, type PersonDetail, type TimelineEvent } from '../api.ts'
import { Link } from '../router.tsx'
import { displayName } from './people.tsx'

const CHANNELS: Record<string, string> = { messaging: 'Care-team channel', sms: 'SMS', webchat: 'Web chat', email: 'Email', push: 'Push', sandbox: 'Sandbox', voice: 'Voice', whatsapp: 'WhatsApp', messenger: 'Messenger' }
const when = (iso: string) => new Date(iso).toLocaleString()

/** One person: who they are, their ids per surface, suppression, and their one timeline, newest first. */
export function Person({ id }: { id: string }) {
  const [person, setPerson] = useState<PersonDetail | undefined>(undefined)
  const [events, setEvents] = useState<TimelineEvent[] | undefined>(undefined)
  const [error, setError] = useState('')

  useEffect(() => {
    setError('')
    Promise.all([api.person(id), api.timeline(id)]).then(([p, t]) => {
      setPerson(p)
      setEvents(t.events)
    }, (err: unknown) => setError(err instanceof ApiError ? err.message : 'Could not reach the server'))
  }, [id])

  if (error) return <main className="page"><h1>Person</h1><p role="alert" className="error">{error}</p><Link to="/people">Back to people</Link></main>
  if (!person || !events) return <main className="page"><h1>Person</h1><p role="status">Loading…</p></main>

  return (
    <main className="page person">
      <p><Link to="/people">← People</Link></p>
      <h1>{displayName(person)}</h1>
      <div className="columns">
        <section aria-labelledby="timeline-h" className="timeline">
          <h2 id="timeline-h">Timeline</h2>
          {events.length === 0 ? <p>Nothing yet.</p> : (
            <ol className="events">
              {events.map((e) => (
                <li key={`${e.channel}-${e.id}-${e.direction}`} className={`event ${e.direction}`}>
                  <div className="meta">
                    <span className="badge">{CHANNELS[e.channel] ?? e.channel}</span>
                    <span>{e.direction === 'in' ? 'from them' : e.thread_name ? `bot · ${e.thread_name}` : 'to them'}</span>
                    <time dateTime={e.created_at}>{when(e.created_at)}</time>
                  </div>
                  <p className="text">{e.text}</p>
                </li>
              ))}
            </ol>
          )}
        </section>
        <aside aria-label="About this person" className="side">
          <h2>Details</h2>
          <dl>
            <dt>Phone</dt><dd>{person.phone ?? '—'}</dd>
            <dt>Email</dt><dd>{person.email ?? '—'}</dd>
            <dt>External id</dt><dd>{person.external_id ?? '—'}</dd>
          </dl>
          <h2>Identities</h2>
          <ul className="plain">
            {person.identities.map((i) => <li key={`${i.surface}-${i.public_id}`}><span className="badge">{i.surface}</span> <code>{i.public_id}</code></li>)}
          </ul>
          <h2>Suppression</h2>
          {person.suppressions.length === 0 ? <p>Not suppressed on any channel.</p> : (
            <ul className="plain">
              {person.suppressions.map((s) => <li key={`${s.scope}-${s.address}`}><strong>{s.scope}</strong> {s.address}: {s.reason} (by {s.source}, {when(s.created_at)})</li>)}
            </ul>
          )}
        </aside>
      </div>
    </main>
  )
}
