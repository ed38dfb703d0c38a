// The contact center under load, end to end, on PostgreSQL: `node bench/contact-center.ts` (run by
// `npm run bench` when DATABASE_URL is set and BENCH_SCENARIOS includes `contact-center`).
//
// On a fresh database `switchboard_bench_cc_<ms>` (dropped afterwards, also on failure), the real
// commands: BENCH_CC_APIS (2) `switchboard api` and BENCH_CC_WORKERS (2) `switchboard worker`
// processes. This process plays everyone else, over HTTP only:
//   - BENCH_CC_AGENTS (20) agents of one team, each `chat_capacity` BENCH_CC_CAPACITY (chats ÷
//     agents, 10), signed in through the agent API on one API process (their "home", alternating),
//     each with its Server-Sent Events stream (GET /agent/v1/events) open there, accepting every
//     offer through the *other* API process;
//   - BENCH_CC_CHATS (200) end users, whose chats start with H12 POST /apps/api/v1/chats (alternating
//     API processes) while every agent is Unavailable; then the agents become Available one after
//     the other (BENCH_CC_STAGGER_MS apart), and each takes its share of the waiting chats;
//   - once every chat is accepted (all 200 at once), BENCH_CC_MESSAGES (3) exchanges per chat, all
//     chats at the same time: the end user says something (H3 POST /apps/api/v1/chats/:id/message),
//     the agent reads it on its stream and answers (POST /agent/v1/chats/:id/messages), the answer
//     reaches the end user as a signed `message_received` webhook at a local receiver that checks
//     the signature (test/peers/webhook-receiver.ts); the end user thinks (up to
//     BENCH_CC_THINK_MS, random) and says the next thing;
//   - then the agents end their chats, and BENCH_CC_ROUNDS (2) rounds of the same follow (the agents
//     go Unavailable again first), so that "becomes available → offer" has more samples.
// Measured, per message or offer (timestamps in this process, so they include its own event loop):
//   end-user message → agent event: H3 request sent → the `message` event read from the stream
//   agent message → webhook: agent POST sent → the verified webhook received
//   becomes available → offer: PUT /agent/v1/status Available sent → the agent's first `offer` event
//   chat started → offer: H12 sent → the `offer` event (the chats that waited for nobody: none here
//     in the ramp, so only reported for information)
// Checked in the database at the end: double offers (two offers of one session whose lifetimes
// overlap, in cc_offers), lost sessions (a chat not accepted exactly once), accepted sessions per
// agent (fairness max/min). Goals are reported, not asserted.
//
// Environment: DATABASE_URL (required: a server where a database may be created), BENCH_CC_CHATS
// (200), BENCH_CC_AGENTS (20), BENCH_CC_CAPACITY (chats/agents rounded up), BENCH_CC_MESSAGES (3),
// BENCH_CC_ROUNDS (2), BENCH_CC_APIS (2), BENCH_CC_WORKERS (2), BENCH_CC_STAGGER_MS (100),
// BENCH_CC_THINK_MS (500), BENCH_CC_NODE_ARGS (node flags for the server processes, e.g.
// `--cpu-prof --cpu-prof-dir=/tmp/cc-prof`), BENCH_CC_SERVER_ENV (extra `NAME=value` pairs for them).
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { createServer } from 'node:net'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { startWebhookReceiver, type WebhookReceiver } from '../test/peers/webhook-receiver.ts'
import { intEnv, startChild, stopChild, type Child } from './children.ts'
import { judge, percentile, type Figures } from './contact-center-figures.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const ADMIN_URL = process.env.DATABASE_URL
const CHATS = intEnv('BENCH_CC_CHATS', 200)
const AGENTS = intEnv('BENCH_CC_AGENTS', 20)
const CAPACITY = intEnv('BENCH_CC_CAPACITY', Math.ceil(CHATS / AGENTS))
const MESSAGES = intEnv('BENCH_CC_MESSAGES', 3, 0)
const ROUNDS = intEnv('BENCH_CC_ROUNDS', 2)
const APIS = intEnv('BENCH_CC_APIS', 2)
const WORKERS = intEnv('BENCH_CC_WORKERS', 2, 0)
const STAGGER_MS = intEnv('BENCH_CC_STAGGER_MS', 100, 0)
const THINK_MS = intEnv('BENCH_CC_THINK_MS', 500, 0)
const NODE_ARGS = (process.env.BENCH_CC_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)
const SERVER_ENV = Object.fromEntries((process.env.BENCH_CC_SERVER_ENV ?? '').split(/\s+/).filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
const PRIMARY = 'bench-primary-secret-0123456789'
const SECONDARY = 'bench-secondary-secret-0123456789'
const WAIT_MS = 120_000

const log = (m: string) => process.stderr.write(`[bench:contact-center] ${m}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

// ---------------------------------------------------------------------------------------------
// Processes

const children: Child[] = []

function start(name: string, role: 'api' | 'worker', env: NodeJS.ProcessEnv, port?: number): Child {
  const child: Child = { ...startChild(name, [...NODE_ARGS, 'src/main.ts', role], { ...env, ...(port ? { PORT: String(port) } : {}), ...SERVER_ENV }), ...(port ? { url: `http://127.0.0.1:${port}` } : {}) }
  children.push(child)
  return child
}

const stop = stopChild

async function ready(child: Child, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.proc.exitCode !== null) throw new Error(`${child.name} exited with ${child.proc.exitCode}:\n${child.output()}`)
    if (child.url) {
      try {
        if ((await fetch(`${child.url}/readyz`, { signal: AbortSignal.timeout(2000) })).ok) return
      } catch {
        // not listening yet
      }
    } else if (child.output().includes('workers and scheduler started')) return
    await sleep(200)
  }
  throw new Error(`${child.name} not ready after ${timeoutMs / 1000} s:\n${child.output()}`)
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['src/main.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    proc.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')))
    proc.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')))
    proc.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`switchboard ${args.join(' ')} exited with ${code}:\n${err || out}`))))
  })
}

// ---------------------------------------------------------------------------------------------
// HTTP as the end users and agents

async function call(base: string, method: string, path: string, auth: string, body?: unknown): Promise<{ status: number; body: Json | null }> {
  const res = await fetch(base + path, {
    method, headers: { authorization: auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  })
  const text = await res.text()
  let parsed: Json | null = null
  try {
    parsed = text ? JSON.parse(text) as Json : null
  } catch {
    parsed = { text }
  }
  return { status: res.status, body: parsed }
}

async function ok(what: string, p: Promise<{ status: number; body: Json | null }>, expected = [200, 201, 204]): Promise<Json | null> {
  const r = await p
  if (!expected.includes(r.status)) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body
}

/**
 * Sign in from a loopback address of the agent's own (127.0.0.N): the agent API allows ten
 * sign-ins a minute per address, and twenty agents signing in from one address would hit it.
 */
function login(base: string, body: Json, localAddress: string): Promise<Json> {
  return new Promise((resolve, reject) => {
    const url = new URL('/agent/v1/login', base)
    const data = JSON.stringify(body)
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', localAddress, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      let text = ''
      res.on('data', (c: Buffer) => (text += c.toString('utf8')))
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text) as Json) : reject(new Error(`login ${body.email}: ${res.statusCode} ${text}`))))
    })
    req.once('error', reject)
    req.end(data)
  })
}

/** An agent's event stream, read as it comes: each event handed to `onEvent` with its arrival time. */
async function stream(url: string, auth: string, onEvent: (type: string, data: Json, at: number) => void): Promise<() => void> {
  const abort = new AbortController()
  const res = await fetch(url, { headers: { accept: 'text/event-stream', authorization: auth }, signal: abort.signal })
  if (!res.ok || !res.body) throw new Error(`event stream ${url}: ${res.status}`)
  void (async () => {
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const at = performance.now()
        buffer += decoder.decode(chunk, { stream: true })
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          let type = 'message'
          let data = ''
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) type = line.slice(7)
            else if (line.startsWith('data: ')) data += line.slice(6)
          }
          if (data) onEvent(type, JSON.parse(data) as Json, at)
        }
      }
    } catch {
      // closed
    }
  })()
  return () => abort.abort()
}

/** Resolves when `key` is signalled (or rejects after `ms`); a signal before the wait is kept. */
class Signals {
  readonly #at = new Map<string, number>()
  readonly #waiting = new Map<string, (at: number) => void>()
  signal(key: string, at: number): void {
    if (this.#at.has(key)) return
    this.#at.set(key, at)
    this.#waiting.get(key)?.(at)
  }
  has(key: string): boolean {
    return this.#at.has(key)
  }
  wait(key: string, ms = WAIT_MS): Promise<number> {
    const at = this.#at.get(key)
    if (at !== undefined) return Promise.resolve(at)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${key}`)), ms)
      this.#waiting.set(key, (t) => {
        clearTimeout(timer)
        resolve(t)
      })
    })
  }
}

// ---------------------------------------------------------------------------------------------
// The run

interface Agent { i: number; num: number; auth: string; home: string; other: string; closeStream: () => void; accepted: number }

async function main(): Promise<void> {
  if (!ADMIN_URL) throw new Error('DATABASE_URL is required (a PostgreSQL server where a bench database may be created)')
  const dbName = `switchboard_bench_cc_${Date.now()}`
  const admin = new pg.Client({ connectionString: ADMIN_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${dbName}`)
  const dbUrl = new URL(ADMIN_URL)
  dbUrl.pathname = '/' + dbName
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-bench-cc-'))
  const drop = async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch((err: unknown) => log(`could not drop ${dbName}: ${(err as Error).message}`))
    await admin.end().catch(() => {})
    rmSync(dataDir, { recursive: true, force: true })
  }
  onInterrupt = drop
  let receiver: WebhookReceiver | undefined
  let db: pg.Client | undefined
  const agents: Agent[] = []
  const loadBefore = loadavg()[0]!
  const startedAt = new Date()
  try {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH, HOME: process.env.HOME, TZ: process.env.TZ, NODE_ENV: 'production', HOST: '127.0.0.1', LOG_LEVEL: 'warn',
      DATABASE_URL: dbUrl.toString(), SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_SECRET_KEY: '5'.repeat(64), SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true',
    }
    // The first API migrates the fresh database; the others start once it is ready.
    const apis = [start('api 1', 'api', env, await freePort())]
    await ready(apis[0]!)
    for (let i = 1; i < APIS; i++) apis.push(start(`api ${i + 1}`, 'api', env, await freePort()))
    const workers = Array.from({ length: WORKERS }, (_, i) => start(`worker ${i + 1}`, 'worker', { ...env, LOG_LEVEL: 'info' }))
    await Promise.all([...apis, ...workers].map((c) => ready(c)))
    log(`${APIS} api + ${WORKERS} worker processes up on ${dbName}`)
    const urls = apis.map((a) => a.url!)

    const tenant = JSON.parse((await runCli(['tenant', 'create', '--name', 'Bench contact center', '--json'], env)).trim().split('\n').pop()!) as { cass: { client: string; token: string }; ccai: { subdomain: string; token: string } }
    const cass = 'Basic ' + Buffer.from(`${tenant.cass.client}:${tenant.cass.token}`).toString('base64')
    const ccai = 'Basic ' + Buffer.from(`${tenant.ccai.subdomain}:${tenant.ccai.token}`).toString('base64')
    receiver = await startWebhookReceiver([PRIMARY, SECONDARY], { onRequest: (r) => onWebhook(r.body, r.matchedSecret) })
    const setup = `settings: { rate_limit: 100000, offer_timeout: 5m, chat_dismissal_timeout: 1h, wrap_up_timeout: 0s, webhook: { url: "${receiver.url}/hooks", primary_secret: "${PRIMARY}", secondary_secret: "${SECONDARY}" } }
teams: [{ name: Desk }]
agents:
${Array.from({ length: AGENTS }, (_, i) => `  - { email: agent${i}@bench.example.org, first_name: Agent, last_name: "${i}", teams: [Desk], chat_capacity: ${CAPACITY}, password: "bench-password-${i}" }`).join('\n')}
menus: [{ name: Site, type: web, children: [{ name: Help, channels: [chat], teams: [Desk] }] }]
`
    await ok('loading the contact center', fetch(`${urls[0]}/admin/contact-center`, { method: 'PUT', headers: { authorization: cass, 'content-type': 'application/yaml' }, body: setup })
      .then(async (r) => ({ status: r.status, body: { text: await r.text() } })))
    const menuId = 2

    // What the streams and the receiver saw, by key.
    const seen = new Signals()
    const firstOffer = new Signals()
    const badWebhooks = { unsigned: 0 }
    const offersSeen: Array<{ agent: number; offerId: string; chatId: number; at: number }> = []
    const acceptFailures: string[] = []
    function onWebhook(body: string, matched: number): void {
      const at = performance.now()
      if (matched < 0) {
        badWebhooks.unsigned++
        return
      }
      const hook = JSON.parse(body) as Json
      if (hook.type === 'message_received' && typeof hook.data?.content === 'string') seen.signal(`hook ${hook.data.content}`, at)
    }
    let round = 0
    const accepting = new Set<string>()
    const acceptedBy = new Map<number, Agent>()
    const onAgentEvent = (agent: Agent) => (type: string, data: Json, at: number) => {
      if (type === 'offer') {
        offersSeen.push({ agent: agent.i, offerId: data.offer_id, chatId: data.chat_id, at })
        firstOffer.signal(`round ${round} agent ${agent.i}`, at)
        seen.signal(`offer chat ${data.chat_id}`, at)
        if (accepting.has(data.offer_id)) return
        accepting.add(data.offer_id)
        // Accepted through the other API process.
        void call(agent.other, 'POST', `/agent/v1/offers/${data.offer_id}/accept`, agent.auth).then((r) => {
          if (r.status !== 200) acceptFailures.push(`${r.status} ${JSON.stringify(r.body)}`)
          else {
            agent.accepted++
            acceptedBy.set(data.chat_id, agent)
            seen.signal(`accepted chat ${data.chat_id}`, performance.now())
          }
        }, (err: unknown) => acceptFailures.push(String(err)))
      } else if (type === 'message' && data.from === 'end_user' && typeof data.content === 'string') {
        seen.signal(`event ${data.content}`, at)
      }
    }

    for (let i = 0; i < AGENTS; i++) {
      const home = urls[i % urls.length]!
      const other = urls[(i + 1) % urls.length]!
      const body = await login(home, { email: `agent${i}@bench.example.org`, password: `bench-password-${i}`, company: tenant.ccai.subdomain }, `127.0.0.${2 + i}`)
      const agent: Agent = { i, num: body.agent.id as number, auth: `Bearer ${body.token}`, home, other, closeStream: () => {}, accepted: 0 }
      agent.closeStream = await stream(`${home}/agent/v1/events`, agent.auth, onAgentEvent(agent))
      agents.push(agent)
    }
    log(`${AGENTS} agents signed in (capacity ${CAPACITY} each), streams open`)

    const availableToOffer: number[] = []
    const startToOffer: number[] = []
    const userToAgent: number[] = []
    const agentToWebhook: number[] = []
    const missing: string[] = []
    const chatIds: number[] = []
    const roundSeconds: number[] = []
    for (round = 1; round <= ROUNDS; round++) {
      const roundStart = performance.now()
      // Every agent away: the chats queue.
      await Promise.all(agents.map((a) => ok(`agent ${a.i} Unavailable`, call(a.home, 'PUT', '/agent/v1/status', a.auth, { status: 'Unavailable' }))))
      const ids: number[] = []
      const users: number[] = []
      const started = new Map<number, number>()
      let next = 0
      await Promise.all(Array.from({ length: 20 }, async () => {
        for (let i = next++; i < CHATS; i = next++) {
          // H12 starts chats only for end users the tenant knows (E1), so each gets one first.
          const user = await ok(`E1 end user ${i}`, call(urls[i % urls.length]!, 'POST', '/apps/api/v1/end_users', ccai, { identifier: `bench-${round}-${i}` }))
          users[i] = user!.id as number
          const t0 = performance.now()
          const chat = await ok(`H12 chat ${i}`, call(urls[i % urls.length]!, 'POST', '/apps/api/v1/chats', ccai, { chat: { menu_id: menuId, end_user_id: users[i] } }))
          ids[i] = chat!.id as number
          started.set(chat!.id as number, t0)
        }
      }))
      chatIds.push(...ids)
      log(`round ${round}: ${CHATS} chats queued; agents become Available ${STAGGER_MS} ms apart`)
      // The agents come in one after the other; each one's first offer follows its status change.
      for (const a of agents) {
        const t0 = performance.now()
        await ok(`agent ${a.i} Available`, call(a.home, 'PUT', '/agent/v1/status', a.auth, { status: 'Available' }))
        void firstOffer.wait(`round ${round} agent ${a.i}`).then((at) => availableToOffer.push(at - t0), () => missing.push(`round ${round}: no offer for agent ${a.i} after it became Available`))
        await sleep(STAGGER_MS)
      }
      await Promise.all(ids.map((id) => seen.wait(`accepted chat ${id}`)))
      for (const id of ids) startToOffer.push((await seen.wait(`offer chat ${id}`)) - started.get(id)!)
      log(`round ${round}: all ${CHATS} chats accepted; ${MESSAGES} exchanges per chat, all chats at once`)

      await Promise.all(ids.map(async (id, i) => {
        const agent = acceptedBy.get(id)!
        for (let m = 1; m <= MESSAGES; m++) {
          await sleep(Math.random() * THINK_MS)
          const said = `u ${id} ${m}`
          const t0 = performance.now()
          await ok(`H3 ${said}`, call(urls[(i + m) % urls.length]!, 'POST', `/apps/api/v1/chats/${id}/message`, ccai, { from_user_id: users[i], message: { type: 'text', content: said } }))
          try {
            userToAgent.push((await seen.wait(`event ${said}`)) - t0)
          } catch {
            missing.push(`no agent event for "${said}"`)
          }
          const answer = `a ${id} ${m}`
          const t1 = performance.now()
          await ok(`agent message ${answer}`, call(agent.home, 'POST', `/agent/v1/chats/${id}/messages`, agent.auth, { content: answer }))
          try {
            agentToWebhook.push((await seen.wait(`hook ${answer}`)) - t1)
          } catch {
            missing.push(`no webhook for "${answer}"`)
          }
        }
        await ok(`ending chat ${id}`, call(agent.other, 'POST', `/agent/v1/chats/${id}/end`, agent.auth))
      }))
      roundSeconds.push((performance.now() - roundStart) / 1000)
      log(`round ${round}: done in ${roundSeconds.at(-1)!.toFixed(1)} s`)
    }

    // The database's account: offers, acceptances, overlaps.
    db = new pg.Client({ connectionString: dbUrl.toString() })
    await db.connect()
    const overlaps = (await db.query<{ n: number }>(`
      SELECT count(*)::int AS n FROM cc_offers a JOIN cc_offers b ON a.session_id = b.session_id AND a.id < b.id
      WHERE a.offered_at < coalesce(b.resolved_at, 'infinity') AND b.offered_at < coalesce(a.resolved_at, 'infinity')`)).rows[0]!.n
    const perSession = (await db.query<{ num: number; status: string; accepted: number; offers: number; agents: number }>(`
      SELECT s.num, s.status,
        (SELECT count(*)::int FROM cc_offers o WHERE o.session_id = s.id AND o.result = 'accepted') AS accepted,
        (SELECT count(*)::int FROM cc_offers o WHERE o.session_id = s.id) AS offers,
        (SELECT count(*)::int FROM cc_participants p WHERE p.session_id = s.id AND p.type = 'agent') AS agents
      FROM cc_sessions s WHERE s.channel = 'chat'`)).rows
    const lost = perSession.filter((s) => s.accepted !== 1 || s.agents !== 1 || s.status !== 'finished')
    const perAgent = (await db.query<{ num: number; n: number }>(`
      SELECT a.num, count(o.id)::int AS n FROM cc_agents a LEFT JOIN cc_offers o ON o.agent_id = a.id AND o.result = 'accepted' GROUP BY a.num ORDER BY a.num`)).rows
    const counts = perAgent.map((r) => r.n)
    const figures: Figures = {
      chats: CHATS, rounds: ROUNDS, agents: AGENTS, capacity: CAPACITY, messagesPerChat: MESSAGES, apis: APIS, workers: WORKERS,
      sessions: perSession.length, offers: perSession.reduce((n, s) => n + s.offers, 0), offersStreamed: offersSeen.length,
      userToAgent: summary(userToAgent), agentToWebhook: summary(agentToWebhook), availableToOffer: summary(availableToOffer), startToOffer: summary(startToOffer),
      fairness: { min: Math.min(...counts), max: Math.max(...counts), ratio: Math.min(...counts) > 0 ? Math.max(...counts) / Math.min(...counts) : Infinity },
      doubleOffers: overlaps, lostSessions: lost.length + (CHATS * ROUNDS - perSession.length),
      acceptFailures: acceptFailures.length, missing: missing.length, unsignedWebhooks: badWebhooks.unsigned, roundSeconds,
      host: `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${startedAt.toISOString().slice(0, 16)}Z, 1-min load average ${loadBefore.toFixed(1)} before / ${loadavg()[0]!.toFixed(1)} after`,
    }
    if (lost.length) log(`sessions not accepted exactly once: ${JSON.stringify(lost.slice(0, 10))}`)
    if (missing.length) log(`missing: ${missing.slice(0, 10).join('; ')}`)
    if (acceptFailures.length) log(`accepts refused: ${acceptFailures.slice(0, 10).join('; ')}`)
    const { text } = judge(figures)
    process.stdout.write(text + '\n')
    process.stdout.write('JSON ' + JSON.stringify(figures) + '\n')
  } catch (err) {
    for (const c of children) process.stderr.write(`--- ${c.name}${c.proc.exitCode !== null ? ` (exited with ${c.proc.exitCode})` : ''}, last output:\n${c.output().slice(-4000)}\n`)
    throw err
  } finally {
    for (const a of agents) a.closeStream()
    await Promise.all(children.map(stop))
    await db?.end().catch(() => {})
    await receiver?.close()
    await drop()
  }
}

function summary(samples: number[]): Figures['userToAgent'] {
  const sorted = [...samples].sort((a, b) => a - b)
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? NaN }
}

/** Set once the bench database exists: drops it (and the data directory). */
let onInterrupt: () => Promise<void> = async () => {}
let stopping = false
const onSignal = () => {
  if (stopping) return
  stopping = true
  log('interrupted: stopping the processes and dropping the database')
  void Promise.all(children.map(stop)).then(() => onInterrupt()).then(() => process.exit(130))
}
process.once('SIGINT', onSignal)
process.once('SIGTERM', onSignal)

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`bench/contact-center: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
