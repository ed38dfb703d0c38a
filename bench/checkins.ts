// Bench scenarios of the bot (issue 3), run by bench/run.ts on PostgreSQL:
//
//   checkins  BENCH_CHECKINS (10000) check-ins due within one minute (uniformly over
//             BENCH_CHECKIN_SPREAD seconds, 60; 0 = all at the same instant), fired by
//             BENCH_CHECKIN_WORKERS (2) `switchboard worker` processes. Measures, from the database:
//             how many fired, lateness fired_at − due_at (p50/p99/max), when the last one fired after
//             the first was due, duplicates (conversations per notification, outbox messages per
//             person), and when the messages reached the sandbox provider.
//             Goal: all fired within 60 s, p99 lateness ≤ 5 s, none twice. BENCH_WORKER_NODE_ARGS: extra
//             node flags for the workers (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof).
//   ping      synchronous POST /ping_person (the answer waits until the sandbox provider took the
//             message) at BENCH_PING_CONNECTIONS (20) against a `switchboard serve` process (API and
//             workers in one process, so a ping wakes its delivery worker at once).
//             Goal: p99 ≤ 50 ms.
import autocannon from 'autocannon'
import pg from 'pg'

export interface BotBenchContext {
  databaseUrl: string
  /** Base URL of the running API server on that database, and the tenant's Cass credentials. */
  base: string
  auth: string
  tenantId: string
  /** Server environment (data dir, secret key, log level) for the processes started here. */
  env: NodeJS.ProcessEnv
  startChild(name: string, args: string[], env: NodeJS.ProcessEnv): { proc: import('node:child_process').ChildProcess; output(): string }
  stopChild(child: { proc: import('node:child_process').ChildProcess }): Promise<void>
  waitReady(child: { proc: import('node:child_process').ChildProcess; output(): string; name?: string }, url: string): Promise<void>
  freePort(): Promise<number>
  createPeople(count: number, concurrency: number): Promise<string[]>
  log(message: string): void
}

function intEnv(name: string, fallback: number, min = 0): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got "${raw}"`)
  return n
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const THREADS = `threads:
  daily:
    steps:
      - say: "Good morning <<NAME>>: time for your check-in"
  ping:
    steps:
      - say: "Hello <<NAME>>"
`

async function loadThreads(ctx: BotBenchContext): Promise<void> {
  const res = await fetch(`${ctx.base}/admin/threads`, { method: 'PUT', headers: { authorization: ctx.auth, 'content-type': 'application/yaml' }, body: THREADS })
  if (!res.ok) throw new Error(`loading the bench threads answered ${res.status}: ${await res.text()}`)
}

let threadsLoaded = false

/** The figures of the check-in burst. */
export interface CheckinFigures {
  scenario: 'checkins'
  count: number
  spreadSeconds: number
  workers: number
  fired: number
  /** ms */
  latenessP50: number
  latenessP99: number
  latenessMax: number
  /** Seconds from the first due time to the last firing. */
  allFiredAfterSeconds: number
  duplicateConversations: number
  duplicateMessages: number
  failed: number
  /** Messages the sandbox provider took, and p99 of sent − due (ms). */
  sent: number
  sentP99: number
  met: boolean
  text: string
}

export async function benchCheckins(ctx: BotBenchContext): Promise<CheckinFigures> {
  const count = intEnv('BENCH_CHECKINS', 10_000, 1)
  const spreadSeconds = intEnv('BENCH_CHECKIN_SPREAD', 60)
  const workers = intEnv('BENCH_CHECKIN_WORKERS', 2, 1)
  const leadSeconds = intEnv('BENCH_CHECKIN_LEAD', 20, 5)
  if (!threadsLoaded) await loadThreads(ctx)
  threadsLoaded = true
  ctx.log(`checkins: creating ${count} people`)
  const ids = await ctx.createPeople(count, 16)
  const db = new pg.Client({ connectionString: ctx.databaseUrl })
  await db.connect()
  const started: Array<{ proc: import('node:child_process').ChildProcess; output(): string }> = []
  try {
    // Due from `lead` seconds from now (the workers are up and idle by then), spread over the minute.
    const first = await db.query<{ t: Date }>(`SELECT now() + make_interval(secs => $1) AS t`, [leadSeconds])
    await db.query(`
      INSERT INTO scheduled_notifications (tenant_id, person_id, type, thread_name, due_at, idempotency_key)
      SELECT $1, i.person_id, 'checkin', 'daily',
        $2::timestamptz + make_interval(secs => ($3::float8 * (row_number() OVER (ORDER BY i.person_id) - 1)) / $4::int),
        'bench:' || i.person_id
      FROM person_identities i WHERE i.surface = 'cass' AND i.public_id = ANY($5::text[])`,
    [ctx.tenantId, first.rows[0]!.t, spreadSeconds, count, ids])
    ctx.log(`checkins: ${count} check-ins due from ${first.rows[0]!.t.toISOString()} over ${spreadSeconds} s; starting ${workers} worker processes`)
    for (let i = 0; i < workers; i++) {
      const nodeArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)
      const child = ctx.startChild(`worker ${i + 1}`, [...nodeArgs, 'src/main.ts', 'worker'], { ...ctx.env, LOG_LEVEL: 'warn' })
      started.push(child)
    }
    const firstDue = first.rows[0]!.t.getTime()
    const deadline = firstDue + (spreadSeconds + 120) * 1000
    for (;;) {
      const r = await db.query<{ n: string }>(`SELECT count(*) AS n FROM scheduled_notifications WHERE tenant_id = $1 AND status = 'pending'`, [ctx.tenantId])
      const pending = Number(r.rows[0]!.n)
      if (pending === 0) break
      if (Date.now() > deadline) {
        ctx.log(`checkins: ${pending} still pending at the deadline`)
        break
      }
      for (const c of started) if (c.proc.exitCode !== null) throw new Error(`a worker exited with ${c.proc.exitCode}:\n${c.output()}`)
      await sleep(500)
    }
    // Let the sandbox provider take the last messages (at most a minute more).
    for (let i = 0; i < 120; i++) {
      const r = await db.query<{ n: string }>(`SELECT count(*) AS n FROM outbox_messages WHERE tenant_id = $1 AND status <> 'sent'`, [ctx.tenantId])
      if (Number(r.rows[0]!.n) === 0) break
      await sleep(500)
    }
    const figures = await db.query<{
      fired: string; failed: string; p50: number; p99: number; max: number; last: number; dup_conv: string; dup_msg: string; sent: string; sent_p99: number | null
    }>(`
      WITH n AS (SELECT * FROM scheduled_notifications WHERE tenant_id = $1)
      SELECT
        (SELECT count(*) FROM n WHERE status = 'fired') AS fired,
        (SELECT count(*) FROM n WHERE status = 'failed') AS failed,
        (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM fired_at - due_at) * 1000) FROM n WHERE status = 'fired')::float8 AS p50,
        (SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM fired_at - due_at) * 1000) FROM n WHERE status = 'fired')::float8 AS p99,
        (SELECT max(extract(epoch FROM fired_at - due_at) * 1000) FROM n WHERE status = 'fired')::float8 AS max,
        (SELECT extract(epoch FROM max(fired_at) - min(due_at)) FROM n)::float8 AS last,
        (SELECT count(*) FROM (SELECT start_key FROM conversations WHERE tenant_id = $1 AND start_key LIKE 'notification:%' GROUP BY start_key HAVING count(*) > 1) d) AS dup_conv,
        (SELECT count(*) FROM (SELECT person_id FROM outbox_messages WHERE tenant_id = $1 GROUP BY person_id HAVING count(*) > 1) d) AS dup_msg,
        (SELECT count(*) FROM outbox_messages WHERE tenant_id = $1 AND status = 'sent') AS sent,
        (SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM o.updated_at - n.due_at) * 1000)
           FROM outbox_messages o JOIN n ON n.person_id = o.person_id WHERE o.tenant_id = $1 AND o.status = 'sent')::float8 AS sent_p99`,
    [ctx.tenantId])
    const f = figures.rows[0]!
    const fired = Number(f.fired)
    const dupConv = Number(f.dup_conv)
    const dupMsg = Number(f.dup_msg)
    const allFiredAfter = f.last
    // "All fired within 60 s": every check-in within 60 s of its due time (max lateness), p99 within 5 s.
    const met = fired === count && dupConv === 0 && dupMsg === 0 && f.p99 <= 5000 && f.max <= 60_000
    const text = `check-ins: ${fired}/${count} fired by ${workers} workers, due over ${spreadSeconds} s; lateness p50 ${f.p50.toFixed(0)} ms, ` +
      `p99 ${f.p99.toFixed(0)} ms, max ${f.max.toFixed(0)} ms; last fired ${allFiredAfter.toFixed(1)} s after the first was due; ` +
      `duplicates: ${dupConv} conversations, ${dupMsg} messages; sent ${f.sent} (p99 sent − due ${f.sent_p99?.toFixed(0) ?? 'n/a'} ms). ` +
      `Goal (each within 60 s of its due time, p99 ≤ 5 s, none twice): ${met ? 'MET' : 'NOT MET'}`
    return {
      scenario: 'checkins', count, spreadSeconds, workers, fired, latenessP50: f.p50, latenessP99: f.p99, latenessMax: f.max, allFiredAfterSeconds: allFiredAfter,
      duplicateConversations: dupConv, duplicateMessages: dupMsg, failed: Number(f.failed), sent: Number(f.sent), sentP99: f.sent_p99 ?? NaN, met, text,
    }
  } finally {
    for (const c of started) await ctx.stopChild(c)
    await db.end()
  }
}

/** The figures of the synchronous ping. */
export interface PingFigures {
  scenario: 'ping'
  connections: number
  reqPerSec: number
  p50: number
  p99: number
  non2xx: number
  errors: number
  met: boolean
  text: string
}

export async function benchPing(ctx: BotBenchContext, opts: { duration: number; warmup: number }): Promise<PingFigures> {
  const connections = intEnv('BENCH_PING_CONNECTIONS', 20, 1)
  if (!threadsLoaded) await loadThreads(ctx)
  threadsLoaded = true
  const people = await ctx.createPeople(intEnv('BENCH_PING_PEOPLE', 1000, 1), 16)
  // API and workers in one process: the synchronous ping wakes its own delivery worker.
  const port = await ctx.freePort()
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)
  const serve = ctx.startChild('switchboard serve (ping)', [...nodeArgs, 'src/main.ts', 'serve'], { ...ctx.env, PORT: String(port) })
  try {
    const base = `http://127.0.0.1:${port}`
    await ctx.waitReady(serve, `${base}/readyz`)
    let n = 0
    const body = () => JSON.stringify({ person_id: people[n++ % people.length], thread_name: 'ping' })
    const smoke = await fetch(`${base}/ping_person`, { method: 'POST', headers: { authorization: ctx.auth, 'content-type': 'application/json' }, body: body() })
    if (!smoke.ok) throw new Error(`ping smoke request answered ${smoke.status}: ${await smoke.text()}`)
    ctx.log(`ping: POST /ping_person (synchronous) — ${opts.warmup} s warm-up + ${opts.duration} s at ${connections} connections`)
    const result = await autocannon({
      url: `${base}/ping_person`, connections, duration: opts.duration, method: 'POST',
      headers: { authorization: ctx.auth, 'content-type': 'application/json' },
      requests: [{ setupRequest: (req) => ({ ...req, body: body() }) }],
      ...(opts.warmup > 0 ? { warmup: { connections, duration: opts.warmup } } : {}),
    })
    const errors = result.errors + result.timeouts
    const met = result.non2xx === 0 && errors === 0 && result.latency.p99 <= 50
    const reqPerSec = result['2xx'] / result.duration
    const text = `ping_person (synchronous, sandbox): ${reqPerSec.toFixed(0)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms at ${connections} connections` +
      `${result.non2xx + errors > 0 ? `, ${result.non2xx} non-2xx and ${errors} errors` : ''}. Goal (p99 ≤ 50 ms): ${met ? 'MET' : 'NOT MET'}`
    return { scenario: 'ping', connections, reqPerSec, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors, met, text }
  } finally {
    await ctx.stopChild(serve)
  }
}
