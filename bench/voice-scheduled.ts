// Scheduled calls at volume (issue 12, Bar "Benchmark"; scenario `voice`, PostgreSQL only):
// BENCH_VOICE_SCHEDULED (500) C4 calls (`POST /apps/api/v1/calls`, `call_type: "ScheduledCall"`) all
// (BENCH_VOICE_CREATE_CONCURRENCY, 8, requests at a time) with `scheduled_at` in the same minute — spread evenly over BENCH_VOICE_SPREAD_MS (1,000 ms)
// starting BENCH_VOICE_LEAD_S (50) seconds after the first is created — in a fresh database (created
// and dropped), fired by **two** job-worker instances in this process, each with its own store
// (connection pool), services and pg-boss workers, polling every BENCH_VOICE_POLL_S (2) seconds as
// `switchboard worker` does (the app's instance also serves the C4 requests).
//
// Each instance's `calls.fireScheduled` (what the `cc.call_scheduled` job runs) is wrapped to record
// which instance ran it, for which call, when, and whether it fired (queued the call) or found it
// already fired. Reported: per call, lateness = `queued_at` (set in the firing transaction) −
// `scheduled_at`, max and p99; the fires per call (must be exactly 1 each: the bench exits non-zero
// otherwise, or when a call is not fired within 60 s of its time); how the fires split between the
// two instances.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node bench/voice-scheduled.ts
import { loadavg } from 'node:os'
import { intEnv } from './children.ts'
import { openWorker, withBenchApp } from './in-process.ts'
import type { Services } from '../src/services.ts'

const N = intEnv('BENCH_VOICE_SCHEDULED', 500)
const LEAD_S = intEnv('BENCH_VOICE_LEAD_S', 50)
const CONCURRENCY = intEnv('BENCH_VOICE_CREATE_CONCURRENCY', 8)
const SPREAD_MS = intEnv('BENCH_VOICE_SPREAD_MS', 1000, 0)
const POLL_S = Number(process.env.BENCH_VOICE_POLL_S ?? 2)
const GOAL_MS = 10_000
const base = process.env.DATABASE_URL
if (!base) throw new Error('DATABASE_URL (PostgreSQL) is required')

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
interface Fire { readonly worker: number; readonly num: number; readonly fired: boolean; readonly at: number }

/** Record every `fireScheduled` the instance's job runs. */
function instrument(services: Services, worker: number, log: Fire[]): void {
  const calls = services.calls
  const original = calls.fireScheduled.bind(calls)
  calls.fireScheduled = async (tenantId, num) => {
    const fired = await original(tenantId, num)
    log.push({ worker, num, fired, at: Date.now() })
    return fired
  }
}

let failed = false
await withBenchApp('voicesched', base, async ({ services, store, app, created, env }) => {
  const tenant = (await services.tenants.findByName('Bench'))!
  await services.ccSetup.load(tenant.id, `
settings: { rate_limit: 100000 }
teams: [{ name: Sales }]
menus: [{ name: App, type: mobile, children: [{ name: Callbacks, channels: [call], teams: [Sales] }] }]
phone_numbers: [{ number: "+1 628-555-0199" }]
`, 'yaml')
  const menu = await store.db.selectFrom('cc_menus').select('num').where('tenant_id', '=', tenant.id).where('name', '=', 'Callbacks').executeTakeFirstOrThrow()
  const second = await openWorker(env, { pollingIntervalSeconds: POLL_S })
  const log: Fire[] = []
  instrument(services, 1, log)
  instrument(second.services, 2, log)
  try {
    const auth = `Basic ${Buffer.from(`${created.ccai.subdomain}:${created.ccai.token}`).toString('base64')}`
    const first = Date.now() + LEAD_S * 1000
    const nums: number[] = []
    const t0 = Date.now()
    // BENCH_VOICE_CREATE_CONCURRENCY (8) requests at a time.
    let next = 0
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < N; i = next++) {
        const at = new Date(first + Math.floor((i * SPREAD_MS) / N))
        const r = await app.inject({
          method: 'POST', url: '/apps/api/v1/calls', headers: { authorization: auth, 'content-type': 'application/json' },
          payload: { call_type: 'ScheduledCall', menu_id: menu.num, end_user_number: `+1415${3000000 + i}`, scheduled_at: at.toISOString() },
        })
        if (r.statusCode !== 201) throw new Error(`C4 answered ${r.statusCode}: ${r.body} (creating ${N} calls took longer than BENCH_VOICE_LEAD_S?)`)
        nums.push((JSON.parse(r.body) as { id: number }).id)
      }
    }))
    const createSeconds = (Date.now() - t0) / 1000
    if (Date.now() >= first) throw new Error(`creating ${N} calls took ${createSeconds} s, past the first scheduled_at; raise BENCH_VOICE_LEAD_S`)
    const last = first + SPREAD_MS
    // Until every call is queued (and a little longer, to catch a late second fire), or 60 s after the last is due.
    for (;;) {
      const left = await store.db.selectFrom('cc_sessions').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tenant.id).where('status', '=', 'scheduled').executeTakeFirstOrThrow()
      if (Number(left.n) === 0) break
      if (Date.now() > last + 60_000) break
      await sleep(250)
    }
    await sleep(Math.max(3000, POLL_S * 2000))
    const rows = await store.db.selectFrom('cc_sessions').select(['num', 'status', 'scheduled_at', 'queued_at']).where('tenant_id', '=', tenant.id).where('num', 'in', nums).execute()
    const late = rows.filter((r) => r.queued_at !== null).map((r) => new Date(r.queued_at!).getTime() - new Date(r.scheduled_at!).getTime()).sort((a, b) => a - b)
    const early = late.filter((x) => x < 0).length
    const p = (q: number) => late[Math.min(late.length - 1, Math.ceil(q * late.length) - 1)] ?? NaN
    const firesPer = new Map<number, number>()
    const runsPer = new Map<number, number>()
    for (const f of log) {
      runsPer.set(f.num, (runsPer.get(f.num) ?? 0) + 1)
      if (f.fired) firesPer.set(f.num, (firesPer.get(f.num) ?? 0) + 1)
    }
    const notFired = nums.filter((n) => (firesPer.get(n) ?? 0) === 0)
    const twice = nums.filter((n) => (firesPer.get(n) ?? 0) > 1)
    const notQueued = rows.filter((r) => r.status !== 'queued').length
    const byWorker = [1, 2].map((w) => log.filter((f) => f.worker === w && f.fired).length)
    const figures = {
      loadAverage: loadavg()[0] ?? 0, calls: N, leadSeconds: LEAD_S, spreadMs: SPREAD_MS, pollSeconds: POLL_S, createSeconds: +createSeconds.toFixed(1),
      latenessMs: { min: late[0] ?? NaN, p50: p(0.5), p99: p(0.99), max: late.at(-1) ?? NaN }, early,
      fired: late.length, notFired: notFired.length, firedTwice: twice.length, notQueued, jobRuns: log.length, noOpRuns: log.filter((f) => !f.fired).length, firesByWorker: byWorker,
      maxRunsPerCall: Math.max(0, ...runsPer.values()),
    }
    const met = figures.notFired === 0 && figures.firedTwice === 0 && figures.latenessMs.max <= GOAL_MS && early === 0
    console.log(`voice scheduled: ${N} C4 calls due within ${SPREAD_MS} ms (created in ${figures.createSeconds} s, ${LEAD_S} s ahead), two job-worker instances polling every ${POLL_S} s`)
    console.log(`voice scheduled: fired ${figures.fired}/${N}; lateness (queued_at − scheduled_at) min ${figures.latenessMs.min} ms, p50 ${figures.latenessMs.p50} ms, p99 ${figures.latenessMs.p99} ms, max ${figures.latenessMs.max} ms; ${early} early`)
    console.log(`voice scheduled: fires per call: ${N - notFired.length - twice.length} exactly once, ${twice.length} twice or more, ${notFired.length} never; job runs ${figures.jobRuns} (${figures.noOpRuns} found the call already fired); fires by instance ${byWorker.join(' / ')}`)
    console.log(`voice scheduled: goal all ${N} within ${GOAL_MS / 1000} s of their time, none twice: ${met ? 'met' : 'NOT met'}; 1-min load average ${figures.loadAverage.toFixed(1)}`)
    console.log(`\nJSON ${JSON.stringify(figures)}`)
    if (twice.length > 0 || notFired.length > 0) {
      console.error(`voice scheduled: FAILED — fired twice: ${twice.slice(0, 20).join(', ')}; never fired: ${notFired.slice(0, 20).join(', ')}`)
      failed = true
    }
  } finally {
    await second.close()
  }
}, { jobs: true, pollingIntervalSeconds: POLL_S })
if (failed) process.exitCode = 1
