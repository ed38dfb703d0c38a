import { useEffect, useMemo, useReducer, useRef, useState, type FormEvent, type KeyboardEvent } from 'react'
import { api, ApiError, type WorkspaceSetup } from '../api.ts'
import { agentApi, type AgentChat, type AgentMe, type AgentMessage, type StreamEvent } from '../agent-api.ts'

// The agent workspace: status, incoming offers, the agent's chats in tabs, live through the agent
// API's event stream. A reload resumes the stream after the last event seen (kept in
// sessionStorage with the pending offers and the chats awaiting wrap-up — no token, no message
// text) and reads the chats and their messages again; everything is merged by id, so nothing is
// lost or doubled.

interface Msg { id: number; from: 'agent' | 'end_user'; type: string; content: string | null; createdAt: string }
interface Offer { offerId: string; chatId: number; expiresAt: string; transferFrom: number | null }
interface ChatState { id: number; chat: AgentChat | null; messages: Msg[]; ended: boolean; wrapUp: boolean; unread: number }
interface State { offers: Offer[]; chats: ChatState[]; active: number | null; status: string | null; notice: string; closed: number[] }

type Action =
  | { type: 'offer'; offer: Offer }
  | { type: 'offer_gone'; offerId: string }
  | { type: 'chat'; chat: AgentChat; messages?: Msg[] }
  | { type: 'message'; chatId: number; message: Msg }
  | { type: 'ended'; chatId: number }
  | { type: 'wrap_up'; chatId: number }
  | { type: 'wrapped'; chatId: number }
  | { type: 'select'; chatId: number }
  | { type: 'status'; status: string }
  | { type: 'notice'; text: string }

function upsertChat(chats: ChatState[], id: number, change: (c: ChatState) => ChatState): ChatState[] {
  const found = chats.find((c) => c.id === id)
  const next = change(found ?? { id, chat: null, messages: [], ended: false, wrapUp: false, unread: 0 })
  return found ? chats.map((c) => (c.id === id ? next : c)) : [...chats, next]
}

/** Merge messages by id, oldest first. */
function merge(into: Msg[], more: Msg[]): Msg[] {
  const byId = new Map(into.map((m) => [m.id, m]))
  for (const m of more) byId.set(m.id, m)
  return [...byId.values()].sort((a, b) => a.id - b.id)
}

function reduce(s: State, a: Action): State {
  // A chat the agent closed (wrapped up) stays closed: late or replayed events of it change nothing
  // (the chat is loaded again only when GET /chats has it assigned to the agent).
  if ('chatId' in a && a.type !== 'select' && s.closed.includes(a.chatId)) return s
  switch (a.type) {
    case 'offer':
      if (s.offers.some((o) => o.offerId === a.offer.offerId) || s.chats.some((c) => c.id === a.offer.chatId && c.chat)) return s
      return { ...s, offers: [...s.offers, a.offer] }
    case 'offer_gone':
      return { ...s, offers: s.offers.filter((o) => o.offerId !== a.offerId) }
    case 'chat': {
      const chats = upsertChat(s.chats, a.chat.id, (c) => ({ ...c, chat: a.chat, messages: a.messages ? merge(c.messages, a.messages) : c.messages }))
      // Assigned now (again, say after a transfer back): open, whatever was closed before.
      return { ...s, chats, closed: s.closed.filter((id) => id !== a.chat.id), offers: s.offers.filter((o) => o.chatId !== a.chat.id), active: s.active ?? a.chat.id }
    }
    case 'message': {
      const chats = upsertChat(s.chats, a.chatId, (c) => {
        const fresh = !c.messages.some((m) => m.id === a.message.id)
        return { ...c, messages: merge(c.messages, [a.message]), unread: c.unread + (fresh && a.message.from === 'end_user' && s.active !== a.chatId ? 1 : 0) }
      })
      return { ...s, chats }
    }
    case 'ended':
      return { ...s, chats: upsertChat(s.chats, a.chatId, (c) => ({ ...c, ended: true })) }
    case 'wrap_up':
      return { ...s, chats: upsertChat(s.chats, a.chatId, (c) => ({ ...c, ended: true, wrapUp: true })) }
    case 'wrapped': {
      const chats = s.chats.filter((c) => c.id !== a.chatId)
      return { ...s, chats, closed: [...s.closed, a.chatId].slice(-200), active: s.active === a.chatId ? chats[0]?.id ?? null : s.active }
    }
    case 'select':
      return { ...s, active: a.chatId, chats: s.chats.map((c) => (c.id === a.chatId ? { ...c, unread: 0 } : c)) }
    case 'status':
      return { ...s, status: a.status }
    case 'notice':
      return { ...s, notice: a.text }
  }
}

const fromApi = (m: AgentMessage): Msg => ({ id: m.id, from: m.from_agent_id !== null ? 'agent' : 'end_user', type: m.type, content: m.content, createdAt: m.created_at })

interface Snapshot { lastEventId: string | null; offers: Offer[]; ended: Array<{ id: number; wrapUp: boolean }>; closed: number[] }
const snapshotKey = (agentId: number) => `sb_workspace:${agentId}`
function readSnapshot(agentId: number): Snapshot {
  try {
    const s = JSON.parse(sessionStorage.getItem(snapshotKey(agentId)) ?? 'null') as Snapshot | null
    if (s && Array.isArray(s.offers) && Array.isArray(s.ended) && Array.isArray(s.closed)) return s
  } catch { /* a damaged snapshot: start afresh */ }
  return { lastEventId: null, offers: [], ended: [], closed: [] }
}

/** A short tone for a new offer (Web Audio; silently nothing where audio is not allowed yet). */
function chime(): void {
  try {
    const ctx = new AudioContext()
    const osc = ctx.createOscillator()
    const gain = ctx.createGain()
    gain.gain.value = 0.05
    osc.frequency.value = 880
    osc.connect(gain).connect(ctx.destination)
    osc.start()
    osc.stop(ctx.currentTime + 0.2)
    osc.onended = () => void ctx.close()
  } catch { /* no audio */ }
}

export function Workspace({ token }: { token: string }) {
  const agent = useMemo(() => agentApi(token), [token])
  const [me, setMe] = useState<AgentMe | null>(null)
  const [error, setError] = useState('')
  const [live, setLive] = useState(false)
  const [setup, setSetup] = useState<WorkspaceSetup>({ dispositions: [], agents: [], queues: [] })
  const [state, dispatch] = useReducer(reduce, { offers: [], chats: [], active: null, status: null, notice: '', closed: [] })
  const lastEventId = useRef<string | null>(null)
  const stateRef = useRef(state)
  stateRef.current = state

  // Keep the snapshot a reload resumes from.
  useEffect(() => {
    if (!me) return
    const snap: Snapshot = { lastEventId: lastEventId.current, offers: state.offers, ended: state.chats.filter((c) => c.ended).map((c) => ({ id: c.id, wrapUp: c.wrapUp })), closed: state.closed }
    sessionStorage.setItem(snapshotKey(me.id), JSON.stringify(snap))
  }, [me, state])

  useEffect(() => {
    const abort = new AbortController()
    const loadChat = async (chatId: number) => {
      const chats = await agent.chats()
      const chat = chats.find((c) => c.id === chatId)
      if (chat) dispatch({ type: 'chat', chat, messages: (await agent.messages(chat.id)).map(fromApi) })
    }
    const onEvent = (e: StreamEvent) => {
      lastEventId.current = e.id
      const d = e.data
      const chatId = Number(d['chat_id'])
      switch (e.type) {
        case 'offer':
          if (new Date(String(d['expires_at'])).getTime() > Date.now()) {
            dispatch({ type: 'offer', offer: { offerId: String(d['offer_id']), chatId, expiresAt: String(d['expires_at']), transferFrom: typeof d['transfer_from'] === 'number' ? d['transfer_from'] : null } })
            chime()
          }
          break
        case 'offer_closed':
          dispatch({ type: 'offer_gone', offerId: String(d['offer_id']) })
          break
        case 'chat_assigned':
          loadChat(chatId).catch(() => {})
          break
        case 'message':
          dispatch({ type: 'message', chatId, message: { id: Number(d['message_id']), from: d['from'] === 'agent' ? 'agent' : 'end_user', type: String(d['type']), content: typeof d['content'] === 'string' ? d['content'] : null, createdAt: String(d['created_at']) } })
          break
        case 'chat_closed':
          dispatch({ type: 'ended', chatId })
          break
        case 'wrap_up':
          dispatch({ type: 'wrap_up', chatId })
          break
        case 'status':
          dispatch({ type: 'status', status: String(d['status']) })
          break
        case 'transfer_failed':
          dispatch({ type: 'notice', text: `The transfer of chat ${chatId} was ${String(d['reason'])}; the chat stays yours.` })
          break
      }
    }
    void (async () => {
      try {
        const [who, found] = await Promise.all([agent.me(), api.workspace()])
        setMe(who)
        dispatch({ type: 'status', status: who.status.name })
        setSetup(found)
        const snap = readSnapshot(who.id)
        lastEventId.current = snap.lastEventId
        for (const o of snap.offers) if (new Date(o.expiresAt).getTime() > Date.now()) dispatch({ type: 'offer', offer: o })
        for (const id of snap.closed) dispatch({ type: 'wrapped', chatId: id })
        for (const c of snap.ended) dispatch({ type: c.wrapUp ? 'wrap_up' : 'ended', chatId: c.id })
        // The stream first (from the last event seen, or from now), then the chats: merged by id.
        void agent.stream(() => lastEventId.current, onEvent, setLive, abort.signal)
        for (const chat of await agent.chats()) dispatch({ type: 'chat', chat, messages: (await agent.messages(chat.id)).map(fromApi) })
      } catch (err) {
        if (!abort.signal.aborted) setError(err instanceof ApiError ? err.message : 'Could not reach the server')
      }
    })()
    return () => abort.abort()
  }, [agent])

  const act = async (what: () => Promise<unknown>) => {
    setError('')
    try {
      await what()
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not reach the server')
    }
  }

  const changeStatus = (status: string) => act(async () => {
    const updated = await agent.setStatus(status)
    dispatch({ type: 'status', status: updated.status.name })
  })

  const accept = (o: Offer) => act(async () => {
    try {
      const chat = await agent.accept(o.offerId)
      dispatch({ type: 'chat', chat, messages: (await agent.messages(chat.id)).map(fromApi) })
      dispatch({ type: 'select', chatId: chat.id })
    } finally {
      dispatch({ type: 'offer_gone', offerId: o.offerId })
    }
  })
  const decline = (o: Offer) => act(async () => {
    try {
      await agent.decline(o.offerId)
    } finally {
      dispatch({ type: 'offer_gone', offerId: o.offerId })
    }
  })

  // Shortcuts for the frequent actions: Alt+A accepts the oldest offer, Alt+D declines it,
  // Alt+1…9 open a chat tab.
  const shortcuts = useRef<(e: globalThis.KeyboardEvent) => void>(() => {})
  shortcuts.current = (e) => {
    if (!e.altKey || e.ctrlKey || e.metaKey) return
    const offer = stateRef.current.offers[0]
    if (e.code === 'KeyA' && offer) void accept(offer)
    else if (e.code === 'KeyD' && offer) void decline(offer)
    else if (/^Digit[1-9]$/.test(e.code)) {
      const chat = stateRef.current.chats[Number(e.code.slice(5)) - 1]
      if (!chat) return
      dispatch({ type: 'select', chatId: chat.id })
    } else return
    e.preventDefault()
  }
  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => shortcuts.current(e)
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [])

  if (!me) {
    return <main className="page"><h1>Workspace</h1><p role="status">{error || 'Loading…'}</p></main>
  }

  const choosable = me.statuses
  const current = state.status ?? me.status.name
  const systemStatus = !choosable.some((s) => s.name === current)
  const active = state.chats.find((c) => c.id === state.active) ?? null

  const onTabKey = (e: KeyboardEvent<HTMLButtonElement>, index: number) => {
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0
    if (step === 0) return
    e.preventDefault()
    const next = state.chats[(index + step + state.chats.length) % state.chats.length]
    if (!next) return
    dispatch({ type: 'select', chatId: next.id })
    document.getElementById(`chat-tab-${next.id}`)?.focus()
  }

  return (
    <main className="page workspace">
      <div className="ws-head">
        <h1>Workspace</h1>
        <div className="ws-status">
          <label htmlFor="status">Status</label>
          <select id="status" value={current} onChange={(e) => void changeStatus(e.target.value)}>
            {systemStatus && <option value={current} disabled>{current}</option>}
            {choosable.map((s) => <option key={s.id} value={s.name}>{s.name}</option>)}
          </select>
          <span className={live ? 'badge live' : 'badge'} role="status">{live ? 'Live' : 'Reconnecting…'}</span>
        </div>
      </div>
      <p role="alert" className="error">{error}</p>
      {state.notice && <p role="status" className="hint">{state.notice}</p>}

      <section aria-labelledby="offers-h" className="offers">
        <h2 id="offers-h">Incoming</h2>
        <p className="hint" id="shortcuts">Shortcuts: Alt+A accept, Alt+D decline the oldest offer; Alt+1…9 open a chat.</p>
        <div aria-live="assertive">
          {state.offers.length === 0 ? <p className="hint">No offers right now.{current === 'Available' ? '' : ' Offers come while you are Available.'}</p> : (
            <ul className="plain">
              {state.offers.map((o) => (
                <li key={o.offerId} className="offer">
                  <span>Chat {o.chatId}{o.transferFrom !== null ? ` (transfer from agent ${o.transferFrom})` : ''}</span>
                  <button type="button" onClick={() => void accept(o)}>Accept chat {o.chatId}</button>
                  <button type="button" className="secondary" onClick={() => void decline(o)}>Decline</button>
                </li>
              ))}
            </ul>
          )}
        </div>
      </section>

      <section aria-labelledby="chats-h" className="chats">
        <h2 id="chats-h">My chats</h2>
        {state.chats.length === 0 ? <p className="hint">No chats.</p> : (
          <>
            <div role="tablist" aria-label="My chats" className="tabs">
              {state.chats.map((c, i) => (
                <button key={c.id} type="button" role="tab" id={`chat-tab-${c.id}`} aria-controls={`chat-panel-${c.id}`}
                  aria-selected={c.id === state.active} tabIndex={c.id === state.active ? 0 : -1}
                  onClick={() => dispatch({ type: 'select', chatId: c.id })} onKeyDown={(e) => onTabKey(e, i)}
                  className={c.id === state.active ? 'tab active' : 'tab'}>
                  {chatTitle(c)}{c.ended ? ' (ended)' : ''}
                  {c.unread > 0 && <span className="unread"> {c.unread}<span className="visually-hidden"> unread</span></span>}
                </button>
              ))}
            </div>
            {active && <ChatPanel key={active.id} chat={active} agent={agent} setup={setup} me={me.id} dispatch={dispatch} onError={setError} />}
          </>
        )}
      </section>
    </main>
  )
}

function chatTitle(c: ChatState): string {
  const who = c.chat?.end_user.identifier
  return who ? `${who} · #${c.id}` : `Chat #${c.id}`
}

function ChatPanel({ chat, agent, setup, me, dispatch, onError }: {
  chat: ChatState
  agent: ReturnType<typeof agentApi>
  setup: WorkspaceSetup
  me: number
  dispatch: (a: Action) => void
  onError: (text: string) => void
}) {
  const [text, setText] = useState('')
  const dispositions = setup.dispositions
  const [disposition, setDisposition] = useState(dispositions[0] ?? '')
  const [target, setTarget] = useState('')
  const [transferred, setTransferred] = useState('')
  const [busy, setBusy] = useState(false)
  const log = useRef<HTMLOListElement>(null)

  useEffect(() => {
    log.current?.lastElementChild?.scrollIntoView({ block: 'nearest' })
  }, [chat.messages.length])

  const run = async (what: () => Promise<void>) => {
    setBusy(true)
    onError('')
    try {
      await what()
    } catch (err) {
      onError(err instanceof ApiError ? err.message : 'Could not reach the server')
    } finally {
      setBusy(false)
    }
  }
  const send = (e?: FormEvent) => {
    e?.preventDefault()
    const content = text.trim()
    if (!content) return
    void run(async () => {
      const m = await agent.send(chat.id, content)
      dispatch({ type: 'message', chatId: chat.id, message: fromApi(m) })
      setText('')
    })
  }
  const wrapUp = (e: FormEvent) => {
    e.preventDefault()
    void run(async () => {
      await agent.wrapUp(chat.id, disposition.trim())
      dispatch({ type: 'wrapped', chatId: chat.id })
    })
  }

  return (
    <div role="tabpanel" id={`chat-panel-${chat.id}`} aria-labelledby={`chat-tab-${chat.id}`} className="chat-panel">
      {chat.chat?.menu_path && <p className="hint">{chat.chat.menu_path.materialized_path}</p>}
      <div role="log" aria-label={`Messages of ${chatTitle(chat)}`} tabIndex={0} className="messages-box">
      <ol ref={log} className="messages">
        {chat.messages.map((m) => (
          <li key={m.id} className={m.from === 'agent' ? 'msg out' : 'msg in'}>
            <span className="visually-hidden">{m.from === 'agent' ? 'You' : 'Customer'}: </span>
            {m.content ?? `(${m.type})`}
            <span className="meta"><time dateTime={m.createdAt}>{new Date(m.createdAt).toLocaleTimeString()}</time></span>
          </li>
        ))}
        {chat.messages.length === 0 && <li className="hint">{chat.ended ? 'The chat has ended.' : 'No messages yet.'}</li>}
      </ol>
      </div>
      {!chat.ended ? (<>
        <form onSubmit={send} className="composer">
          <label htmlFor={`composer-${chat.id}`}>Reply <span className="hint">(Enter sends, Shift+Enter a new line)</span></label>
          <textarea id={`composer-${chat.id}`} rows={3} value={text} onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => { if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); send() } }} />
          <div className="row">
            <button type="submit" disabled={busy || !text.trim()}>Send</button>
            <button type="button" className="secondary" disabled={busy} onClick={() => void run(async () => {
              await agent.end(chat.id)
              dispatch({ type: 'ended', chatId: chat.id })
            })}>End chat</button>
          </div>
        </form>
        <form className="row transfer" onSubmit={(e) => {
          e.preventDefault()
          const [kind, id] = target.split(':')
          if (!id) return
          void run(async () => {
            await agent.transfer(chat.id, kind === 'agent' ? { agent_id: Number(id) } : { menu_id: Number(id) })
            // To a queue I leave at once; to an agent when they accept (then a `chat_closed` event).
            if (kind === 'queue') dispatch({ type: 'ended', chatId: chat.id })
            else setTransferred('Offered to the agent: the chat stays yours until they accept.')
          })
        }}>
          <label htmlFor={`transfer-${chat.id}`}>Transfer to</label>
          <select id={`transfer-${chat.id}`} value={target} onChange={(e) => setTarget(e.target.value)}>
            <option value="">Choose an agent or a queue</option>
            <optgroup label="Agents">
              {setup.agents.filter((a) => a.id !== me).map((a) => <option key={a.id} value={`agent:${a.id}`}>{a.name} ({a.status})</option>)}
            </optgroup>
            <optgroup label="Queues">
              {setup.queues.map((q) => <option key={q.id} value={`queue:${q.id}`}>{q.name}</option>)}
            </optgroup>
          </select>
          <button type="submit" className="secondary" disabled={busy || !target}>Transfer</button>
          <span role="status" className="done">{transferred}</span>
        </form>
      </>) : !chat.wrapUp ? (
        <div className="row">
          <p className="hint">The chat has ended. Wrap-up comes when your last chat ends.</p>
          <button type="button" className="secondary" onClick={() => dispatch({ type: 'wrapped', chatId: chat.id })}>Close chat {chat.id}</button>
        </div>
      ) : (
        <form onSubmit={wrapUp} className="stack wrap-up">
          <h3>Wrap-up</h3>
          <label htmlFor={`disposition-${chat.id}`}>Disposition</label>
          {dispositions.length > 0 ? (
            <select id={`disposition-${chat.id}`} value={disposition} onChange={(e) => setDisposition(e.target.value)}>
              {dispositions.map((d) => <option key={d} value={d}>{d}</option>)}
            </select>
          ) : (
            <input id={`disposition-${chat.id}`} required value={disposition} onChange={(e) => setDisposition(e.target.value)} />
          )}
          <button type="submit" disabled={busy || !disposition.trim()}>Finish wrap-up</button>
        </form>
      )}
    </div>
  )
}
