import { useEffect, useState, type FormEvent, type ReactNode } from 'react'
import { api, ApiError, type PersonDetail, type Suppression } from '../api.ts'
import { Link } from '../router.tsx'
import { displayName } from './people.tsx'
import { Timeline } from './timeline.tsx'

const when = (iso: string) => new Date(iso).toLocaleString()
const SCOPES: Array<[string, string]> = [['sms', 'SMS'], ['email', 'Email'], ['whatsapp', 'WhatsApp'], ['voice', 'Voice'], ['all', 'All channels']]
const REASONS: Record<string, string> = { stop_keyword: 'STOP reply', consent_withdrawn: 'consent withdrawn', dnc: 'do-not-contact list', manual: 'added by hand' }
const OWN_OPT_OUTS = new Set(['stop_keyword', 'consent_withdrawn'])
const messageOf = (err: unknown) => (err instanceof ApiError ? err.message : 'Could not reach the server')

/** One person: who they are, their ids per surface, suppression and consent, the actions, and their one live timeline. */
export function Person({ id }: { id: string }) {
  const [person, setPerson] = useState<PersonDetail | undefined>(undefined)
  const [error, setError] = useState('')
  const [done, setDone] = useState('')
  const [refresh, setRefresh] = useState(0)

  useEffect(() => {
    setError('')
    api.person(id).then(setPerson, (err: unknown) => setError(messageOf(err)))
  }, [id])

  if (error) return <main className="page"><h1>Person</h1><p role="alert" className="error">{error}</p><Link to="/people">Back to people</Link></main>
  if (!person) return <main className="page"><h1>Person</h1><p role="status">Loading…</p></main>

  /** After an action: the person as they are now, the timeline's newest entries, and what happened. */
  const acted = async (what: string, updated?: PersonDetail) => {
    setPerson(updated ?? await api.person(id))
    setRefresh((n) => n + 1)
    setDone(what)
  }
  const can = (action: PersonDetail['actions'][number]) => person.actions.includes(action)
  const addresses = [person.phone, person.email].filter((a): a is string => Boolean(a))

  return (
    <main className="page person">
      <p><Link to="/people">← People</Link></p>
      <h1>{displayName(person)}</h1>
      <p role="status" className="done">{done}</p>
      <div className="columns">
        <section aria-labelledby="timeline-h" className="timeline">
          <h2 id="timeline-h">Timeline</h2>
          <Timeline personId={id} refresh={refresh} />
        </section>
        <aside aria-label="About this person" className="side">
          <h2>Details</h2>
          <dl>
            <dt>Phone</dt><dd>{person.phone ?? '—'}</dd>
            <dt>Email</dt><dd>{person.email ?? '—'}</dd>
            <dt>External id</dt><dd>{person.external_id ?? '—'}</dd>
          </dl>
          {can('edit') ? <EditDetails person={person} onSaved={(p) => acted('Details saved.', p)} /> : null}
          {can('ping') ? (
            <Disclosure summary="Ping into a thread">
              <PingForm personId={id} onPinged={(thread) => acted(`Pinged into ${thread}.`)} />
            </Disclosure>
          ) : null}
          <h2>Identities</h2>
          <ul className="plain">
            {person.identities.map((i) => <li key={`${i.surface}-${i.public_id}`}><span className="badge">{i.surface}</span> <code>{i.public_id}</code></li>)}
          </ul>
          <h2>Suppression and consent</h2>
          {person.suppressions.length === 0 ? <p>Not suppressed on any channel.</p> : (
            <ul className="plain">
              {person.suppressions.map((s) => (
                <SuppressionItem key={`${s.scope}-${s.address}`} s={s} personId={id} canLift={can('lift_suppression')} onLifted={() => acted(`Suppression of ${s.address} on ${s.scope} lifted.`)} />
              ))}
            </ul>
          )}
          {addresses.length === 0 ? <p>No phone or e-mail to suppress or record a consent for.</p> : (
            <>
              {can('add_suppression') ? (
                <Disclosure summary="Add a suppression">
                  <AddressForm addresses={addresses} submitLabel="Suppress" extra={(v, set) => (
                    <>
                      <label htmlFor="sup-reason">Reason</label>
                      <select id="sup-reason" value={v.reason ?? 'manual'} onChange={(e) => set('reason', e.target.value)}>
                        <option value="manual">By hand</option>
                        <option value="dnc">Do-not-contact list</option>
                      </select>
                    </>
                  )} idPrefix="sup" onSubmit={async (v) => {
                    const r = await api.addSuppression(id, { scope: v.scope!, address: v.address!, reason: v.reason ?? 'manual', note: v.note ?? '' })
                    await acted(r.created ? `${r.suppression.address} suppressed on ${r.suppression.scope}.` : `${r.suppression.address} was already suppressed on ${r.suppression.scope} (${REASONS[r.suppression.reason] ?? r.suppression.reason}).`)
                  }} />
                </Disclosure>
              ) : null}
              {can('consent_withdrawn') || can('consent_given') ? (
                <Disclosure summary="Record consent">
                  <AddressForm addresses={addresses} submitLabel="Record consent" idPrefix="consent" extra={(v, set) => (
                    <fieldset className="stack">
                      <legend>Consent</legend>
                      <label><input type="radio" name="consent-state" value="withdrawn" checked={(v.state ?? 'withdrawn') === 'withdrawn'} onChange={() => set('state', 'withdrawn')} /> Withdrawn</label>
                      {can('consent_given') ? <label><input type="radio" name="consent-state" value="given" checked={v.state === 'given'} onChange={() => set('state', 'given')} /> Given (lifts their own opt-out)</label> : null}
                    </fieldset>
                  )} onSubmit={async (v) => {
                    const state = v.state === 'given' ? 'given' : 'withdrawn'
                    const r = await api.recordConsent(id, { scope: v.scope!, address: v.address!, state, note: v.note ?? '' })
                    const still = r.remaining.length > 0 ? ` Still suppressed: ${r.remaining.map((s) => REASONS[s.reason] ?? s.reason).join(', ')}.` : ''
                    await acted(`Consent ${state} recorded for ${v.address} on ${v.scope}.${still}`)
                  }} />
                </Disclosure>
              ) : null}
            </>
          )}
        </aside>
      </div>
    </main>
  )
}

/** A form's action: busy while it runs, and the server's message (or a network failure's) when it fails. */
function useAction() {
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  const run = async (action: () => Promise<void>) => {
    setBusy(true)
    setError('')
    try {
      await action()
    } catch (err) {
      setError(messageOf(err))
    } finally {
      setBusy(false)
    }
  }
  return { busy, error, setError, run }
}

/** The organisation's threads to choose from, and the ping; errors shown in place. */
function PingForm({ personId, onPinged }: { personId: string; onPinged: (thread: string) => Promise<void> }) {
  const [threads, setThreads] = useState<string[] | undefined>(undefined)
  const [thread, setThread] = useState('')
  const { busy, error, setError, run } = useAction()
  useEffect(() => {
    api.threads().then((r) => {
      setThreads(r.threads)
      setThread((cur) => cur || (r.threads[0] ?? ''))
    }, (err: unknown) => setError(messageOf(err)))
  }, [])
  if (threads === undefined) return <p role="status">{error || 'Loading threads…'}</p>
  if (threads.length === 0) return <p>The organisation has no bot threads yet.</p>
  const submit = (e: FormEvent) => {
    e.preventDefault()
    void run(async () => {
      await api.ping(personId, thread)
      await onPinged(thread)
    })
  }
  return (
    <form className="stack" onSubmit={submit}>
      <label htmlFor="ping-thread">Thread</label>
      <select id="ping-thread" value={thread} onChange={(e) => setThread(e.target.value)}>
        {threads.map((t) => <option key={t} value={t}>{t}</option>)}
      </select>
      <button type="submit" disabled={busy || thread === ''}>Ping</button>
      <p role="alert" className="error">{error}</p>
    </form>
  )
}

function Disclosure({ summary, children }: { summary: string; children: ReactNode }) {
  return <details className="action"><summary>{summary}</summary>{children}</details>
}

/** One suppression entry with who put it there, and the lift button where the organisation may lift it. */
function SuppressionItem({ s, personId, canLift, onLifted }: { s: Suppression; personId: string; canLift: boolean; onLifted: () => Promise<void> }) {
  const { busy, error, run } = useAction()
  const lift = () => run(async () => {
    await api.liftSuppression(personId, { scope: s.scope, address: s.address })
    await onLifted()
  })
  return (
    <li className="suppression">
      <strong>{s.scope}</strong> {s.address}: {REASONS[s.reason] ?? s.reason} (by {s.source}, {when(s.created_at)})
      {OWN_OPT_OUTS.has(s.reason) ? <span className="hint"> The person’s own opt-out: record their consent to lift it.</span>
        : canLift ? <> <button type="button" className="small" disabled={busy} onClick={lift} aria-label={`Lift the suppression of ${s.address} on ${s.scope}`}>Lift</button></> : null}
      {error ? <span role="alert" className="error"> {error}</span> : null}
    </li>
  )
}

type Values = Record<string, string | undefined>

/** Channel, one of the person's addresses, the form's own fields and a note; errors shown in place. */
function AddressForm({ addresses, submitLabel, idPrefix, extra, onSubmit }: {
  addresses: string[]; submitLabel: string; idPrefix: string
  extra: (values: Values, set: (k: string, v: string) => void) => ReactNode
  onSubmit: (values: Values) => Promise<void>
}) {
  const [values, setValues] = useState<Values>({ scope: 'sms', address: addresses[0] })
  const { busy, error, run } = useAction()
  const set = (k: string, v: string) => setValues((cur) => ({ ...cur, [k]: v }))
  const submit = (e: FormEvent) => {
    e.preventDefault()
    void run(() => onSubmit({ ...values, address: values.address ?? addresses[0] }))
  }
  return (
    <form className="stack" onSubmit={submit}>
      <label htmlFor={`${idPrefix}-scope`}>Channel</label>
      <select id={`${idPrefix}-scope`} value={values.scope} onChange={(e) => set('scope', e.target.value)}>
        {SCOPES.map(([v, label]) => <option key={v} value={v}>{label}</option>)}
      </select>
      <label htmlFor={`${idPrefix}-address`}>Address</label>
      <select id={`${idPrefix}-address`} value={values.address ?? addresses[0]} onChange={(e) => set('address', e.target.value)}>
        {addresses.map((a) => <option key={a} value={a}>{a}</option>)}
      </select>
      {extra(values, set)}
      <label htmlFor={`${idPrefix}-note`}>Note (optional)</label>
      <input id={`${idPrefix}-note`} maxLength={500} value={values.note ?? ''} onChange={(e) => set('note', e.target.value)} />
      <button type="submit" disabled={busy}>{submitLabel}</button>
      <p role="alert" className="error">{error}</p>
    </form>
  )
}

/** The person's name, phone and e-mail, edited in place. */
function EditDetails({ person, onSaved }: { person: PersonDetail; onSaved: (p: PersonDetail) => Promise<void> }) {
  const [open, setOpen] = useState(false)
  const [form, setForm] = useState({ first_name: '', last_name: '', phone: '', email: '' })
  const { busy, error, setError, run } = useAction()
  const start = () => {
    setForm({ first_name: person.first_name ?? '', last_name: person.last_name ?? '', phone: person.phone ?? '', email: person.email ?? '' })
    setError('')
    setOpen(true)
  }
  if (!open) return <button type="button" onClick={start}>Edit details</button>

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const body: Record<string, string | null> = {}
    if (form.first_name !== (person.first_name ?? '')) body.first_name = form.first_name || null
    if (form.last_name !== (person.last_name ?? '')) body.last_name = form.last_name || null
    if (form.phone !== (person.phone ?? '')) body.phone = form.phone
    if (form.email !== (person.email ?? '')) body.email = form.email || null
    if (Object.keys(body).length === 0) {
      setOpen(false)
      return
    }
    await run(async () => {
      const saved = await api.editPerson(person.id, body)
      setOpen(false)
      await onSaved(saved)
    })
  }
  const field = (key: keyof typeof form, label: string, type = 'text', autoComplete = 'off') => (
    <>
      <label htmlFor={`edit-${key}`}>{label}</label>
      <input id={`edit-${key}`} type={type} autoComplete={autoComplete} value={form[key]} onChange={(e) => setForm((f) => ({ ...f, [key]: e.target.value }))} />
    </>
  )
  return (
    <form className="stack action" onSubmit={submit} aria-label="Edit details">
      {field('first_name', 'First name')}
      {field('last_name', 'Last name')}
      {field('phone', 'Phone', 'tel')}
      {field('email', 'E-mail', 'email')}
      <div className="row">
        <button type="submit" disabled={busy}>Save</button>
        <button type="button" className="secondary" onClick={() => setOpen(false)}>Cancel</button>
      </div>
      <p role="alert" className="error">{error}</p>
    </form>
  )
}
