// One templated multicast to N recipients (BENCH_MC_RECIPIENTS, 100,000) on PostgreSQL (README
// "Multicasts"): a fresh database (created and dropped), the tenant made and the individuals
// (each with a phone) imported with the real CLI, a template loaded; one `switchboard worker`
// process runs the jobs (the multicast fan-out and the delivery of every SMS to the sandbox
// provider) while this process samples its RSS (/proc/<pid>/status, every 100 ms).
//
// 1. Clean run: the multicast is created (#80's work: checks, the worklist, the job) and the clock
//    runs until every recipient is rendered and handed to the delivery pipeline (`status: sent`),
//    then until every SMS is `sent` by the sandbox provider.
// 2. Crash: a second multicast; once half its recipients are done the worker gets kill -9 and a new
//    one starts; when it is sent, every recipient must have exactly one SMS (outbox rows by the
//    multicast's idempotency keys, and `sent` at the sandbox): no duplicate, no gap.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node bench/multicast.ts
// Environment: BENCH_MC_RECIPIENTS (100000), BENCH_MC_SKIP_CRASH (set to skip part 2),
// BENCH_MC_WORKER_NODE_ARGS (node flags for the worker process, e.g. `--max-old-space-size=160`),
// BENCH_MC_WORKER_LOG (a file to append the workers' output to), COUNT_STATEMENTS_FILE (passed on, for
// `--import ./bench/count-statements.ts` in BENCH_MC_WORKER_NODE_ARGS).
import { spawnSync } from 'node:child_process'
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { ROOT, intEnv, startChild, stopChild, type Child } from './children.ts'

const N = intEnv('BENCH_MC_RECIPIENTS', 100_000)
const GOAL_SECONDS = 30
const GOAL_RSS_MB = 300
const WORKER_NODE_ARGS = (process.env.BENCH_MC_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean)
const base = process.env.DATABASE_URL
if (!base) throw new Error('DATABASE_URL (PostgreSQL) is required')

const log = (m: string) => process.stderr.write(`multicast bench: ${m}\n`)
const TEMPLATE = `templates:
  clinic-closed:
    data-schema: { type: object, required: [day], properties: { day: { type: string } } }
    sms: "Hi {{ recipient.name | default: 'there' }}, the clinic is closed on {{ data.day }}."
    in-app: { title: "Clinic closed", body: "Closed on {{ data.day }}" }
    languages:
      es: { sms: "Hola {{ recipient.name | default: '' }}, la clínica cierra el {{ data.day }}." }
`

/** The worker's resident set in MB, or 0 once it is gone. */
function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Math.round(Number(m[1]) / 1024) : 0
  } catch {
    return 0
  }
}

/** The worker's CPU time so far (user + system), in seconds, or 0 once it is gone. */
function cpuSeconds(pid: number): number {
  try {
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(f[11]) + Number(f[12])) / 100
  } catch {
    return 0
  }
}

async function ready(child: Child): Promise<void> {
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline) {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) throw new Error(`${child.name} exited:\n${child.output()}`)
    if (child.output().includes('workers and scheduler started')) return
    await sleep(200)
  }
  throw new Error(`${child.name} not ready after 120 s:\n${child.output()}`)
}

const dir = mkdtempSync(join(tmpdir(), 'sb-mc-bench-'))
const dbName = `sb_mc_bench_${process.pid}`
const admin = new pg.Client({ connectionString: base })
await admin.connect()
await admin.query(`CREATE DATABASE ${dbName}`)
const url = new URL(base)
url.pathname = `/${dbName}`
const db = new pg.Client({ connectionString: url.toString() })
const workers: Child[] = []
try {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH, HOME: process.env.HOME, TZ: process.env.TZ, NODE_ENV: 'production', LOG_LEVEL: 'info',
    DATABASE_URL: url.toString(), SWITCHBOARD_DATA_DIR: dir,
    // For `--import ./bench/count-statements.ts` in BENCH_MC_WORKER_NODE_ARGS.
    ...(process.env.COUNT_STATEMENTS_FILE ? { COUNT_STATEMENTS_FILE: process.env.COUNT_STATEMENTS_FILE } : {}),
  }
  const cli = (args: string[]) => {
    const r = spawnSync(process.execPath, ['src/main.ts', ...args], { cwd: ROOT, env: { ...env, LOG_LEVEL: 'warn' }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`)
    return r.stdout
  }
  cli(['tenant', 'create', '--name', 'Bench'])
  const file = join(dir, 'individuals.csv')
  const out = createWriteStream(file)
  out.write('external_id,first_name,last_name,phone\n')
  for (let i = 0; i < N; i++) out.write(`mc-${i},First${i},Last${i},+1415${String(3000000 + i)}\n`)
  await new Promise<void>((r) => out.end(() => r()))
  let t0 = Date.now()
  cli(['directory', 'import', '--tenant', 'Bench', file, '--json'])
  log(`${N} individuals imported in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  const templates = join(dir, 'templates.yaml')
  const tf = createWriteStream(templates)
  tf.end(TEMPLATE)
  await new Promise<void>((r) => tf.once('finish', () => r()))
  cli(['templates', 'load', '--tenant', 'Bench', templates])
  await db.connect()
  // A tenth of them read Spanish: the variant is rendered for them.
  await db.query(`UPDATE people SET language_type = 'es-US' WHERE external_id LIKE 'mc-%0'`)
  const { rows: [tenant] } = await db.query<{ id: string }>(`SELECT id FROM tenants WHERE name = 'Bench'`)

  const startWorker = async (name: string) => {
    const w = startChild(name, [...WORKER_NODE_ARGS, 'src/main.ts', 'worker'], env)
    workers.push(w)
    // BENCH_MC_WORKER_LOG: the workers' whole output (e.g. with `--trace-gc` in BENCH_MC_WORKER_NODE_ARGS).
    if (process.env.BENCH_MC_WORKER_LOG) {
      const file = createWriteStream(process.env.BENCH_MC_WORKER_LOG, { flags: 'a' })
      w.proc.stdout!.pipe(file)
      w.proc.stderr!.pipe(file)
    }
    await ready(w)
    return w
  }
  /** Enqueue a multicast to every participant exactly as #80 does, through a short-lived process of the services. */
  const create = async (day: string): Promise<{ id: string; createMs: number }> => {
    const started = Date.now()
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
      import { loadConfig } from './src/config.ts'
      import { openStore } from './src/db/store.ts'
      import { createServices } from './src/services.ts'
      const config = loadConfig(process.env)
      const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })
      const services = createServices(config, store)
      await services.jobs.start()
      const tenant = await services.tenants.findById(${JSON.stringify(tenant!.id)})
      const m = await services.multicasts.create(tenant, { kind: 'multicast', createdBy: tenant.id, organizationId: tenant.id, templateId: 'clinic-closed',
        data: { day: ${JSON.stringify(day)} }, filterType: 'all-participants', filterValue: {},
        pointers: { templateId: '/t', data: '/d', organizationId: '/o', filterType: '/f', filterValue: '/v' } }, { kind: 'organization' })
      process.stdout.write(m.id + '\\n')
      await services.jobs.stop()
      await services.providers.close()
      await store.close()
    `], { cwd: ROOT, env: { ...env, LOG_LEVEL: 'warn' }, encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`create failed: ${r.stderr}`)
    return { id: r.stdout.trim().split('\n').pop()!, createMs: Date.now() - started }
  }
  const progress = async (id: string) => {
    const { rows } = await db.query<{ state: string; n: string }>('SELECT state, count(*) AS n FROM msg_multicast_recipients WHERE multicast_id = $1 GROUP BY state', [id])
    const { rows: [m] } = await db.query<{ status: string }>('SELECT status FROM msg_multicasts WHERE id = $1', [id])
    const by = (s: string) => Number(rows.find((r) => r.state === s)?.n ?? 0)
    return { status: m!.status, sent: by('sent'), skipped: by('skipped'), pending: by('pending') }
  }
  const smsOf = async (id: string) => {
    const { rows: [r] } = await db.query<{ rows: string; keys: string; people: string; sandbox: string }>(`SELECT count(*) AS rows, count(DISTINCT idempotency_key) AS keys,
      count(DISTINCT person_id) AS people, count(*) FILTER (WHERE status = 'sent') AS sandbox FROM outbox_messages WHERE idempotency_key LIKE $1`, [`multicast:${id}:%`])
    return { rows: Number(r!.rows), keys: Number(r!.keys), people: Number(r!.people), sandbox: Number(r!.sandbox) }
  }

  // 1. The clean run.
  let worker = await startWorker('worker')
  const samples: number[] = []
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      const mb = rssMb(worker.proc.pid!)
      if (mb > 0) samples.push(mb)
      await sleep(100)
    }
  })()
  const loadBefore = loadavg()[0]!
  const idleRss = rssMb(worker.proc.pid!)
  const cpuBefore = cpuSeconds(worker.proc.pid!)
  const first = await create('Friday')
  t0 = Date.now() - first.createMs
  let renderedSeconds = 0
  let firstDone = await progress(first.id)
  for (;;) {
    firstDone = await progress(first.id)
    if (firstDone.status === 'sent') {
      renderedSeconds = (Date.now() - t0) / 1000
      break
    }
    await sleep(100)
  }
  // A recipient can be skipped (a render over liquid's time limit on a starved host): every sent one has its SMS.
  if (firstDone.skipped > 0) log(`clean: ${firstDone.skipped} recipients skipped`)
  let handedSeconds = 0
  for (;;) {
    const s = await smsOf(first.id)
    if (s.sandbox >= firstDone.sent) {
      handedSeconds = (Date.now() - t0) / 1000
      break
    }
    await sleep(250)
  }
  const cleanSms = await smsOf(first.id)
  const peakRss = Math.max(...samples)
  const workerCpu = cpuSeconds(worker.proc.pid!) - cpuBefore
  log(`clean: ${N} recipients rendered and handed to the pipeline in ${renderedSeconds.toFixed(1)} s (create ${first.createMs} ms), every SMS sent by the sandbox after ${handedSeconds.toFixed(1)} s; `
    + `worker RSS peak ${peakRss} MB (${idleRss} MB when it was ready), worker CPU ${workerCpu.toFixed(1)} s; load average ${loadavg()[0]!.toFixed(1)}`)

  // 2. kill -9 of the worker halfway, then a new worker.
  let crash: Record<string, unknown> | undefined
  if (!process.env.BENCH_MC_SKIP_CRASH) {
    const second = await create('Monday')
    const c0 = Date.now()
    for (;;) {
      const p = await progress(second.id)
      if (p.sent + p.skipped >= N / 2) break
      if (p.status === 'sent') throw new Error('finished before the kill')
      await sleep(20)
    }
    worker.proc.kill('SIGKILL')
    await new Promise((r) => worker.proc.once('exit', r))
    const atKill = await progress(second.id)
    log(`crash: worker killed at ${atKill.sent + atKill.skipped}/${N}; starting a new worker`)
    worker = await startWorker('worker 2')
    let done = await progress(second.id)
    for (;;) {
      done = await progress(second.id)
      if (done.status === 'sent') break
      await sleep(250)
    }
    const resumedSeconds = (Date.now() - c0) / 1000
    for (;;) {
      const s = await smsOf(second.id)
      if (s.sandbox >= s.rows && s.rows >= done.sent) break
      await sleep(250)
    }
    const s = await smsOf(second.id)
    const sent = done.sent
    crash = { killedAt: atKill.sent + atKill.skipped, seconds: Number(resumedSeconds.toFixed(1)), ...s, skipped: done.skipped,
      exactlyOnce: sent + done.skipped === N && s.rows === sent && s.keys === sent && s.people === sent && s.sandbox === sent }
    log(`crash: sent after ${resumedSeconds.toFixed(1)} s (including the job's 30 s heartbeat expiry); SMS rows ${s.rows}, distinct recipients ${s.people}, sent at the sandbox ${s.sandbox}: ${crash.exactlyOnce ? 'exactly once' : 'NOT exactly once'}`)
  }
  sampling = false
  await sampler
  const figures = {
    recipients: N, skipped: firstDone.skipped, renderedSeconds: Number(renderedSeconds.toFixed(1)), sandboxSeconds: Number(handedSeconds.toFixed(1)), createMs: first.createMs,
    workerRssPeakMb: peakRss, workerRssReadyMb: idleRss, workerCpuSeconds: Number(workerCpu.toFixed(1)), workerNodeArgs: WORKER_NODE_ARGS.join(' '), goals: { seconds: GOAL_SECONDS, rssMb: GOAL_RSS_MB, met: handedSeconds <= GOAL_SECONDS && peakRss < GOAL_RSS_MB }, clean: cleanSms, crash,
    loadAverage: { before: loadBefore, after: loadavg()[0] },
  }
  process.stdout.write(`### Multicast (PostgreSQL, one worker${WORKER_NODE_ARGS.length > 0 ? ` with ${WORKER_NODE_ARGS.join(' ')}` : ''})\n\n${N} recipients: rendered and handed to the pipeline in ${figures.renderedSeconds} s, `
    + `every SMS sent by the sandbox in ${figures.sandboxSeconds} s (goal ≤ ${GOAL_SECONDS} s), worker RSS peak ${peakRss} MB (goal < ${GOAL_RSS_MB} MB)`
    + (crash ? `; kill -9 at ${String(crash.killedAt)}: ${crash.exactlyOnce ? 'every recipient reached exactly once' : 'NOT exactly once'} (${String(crash.rows)} SMS, ${String(crash.people)} recipients)` : '') + '\n')
  process.stdout.write(`\nJSON ${JSON.stringify(figures)}\n`)
  if (crash && !crash.exactlyOnce) process.exitCode = 1
} finally {
  for (const w of workers) await stopChild(w)
  await db.end().catch(() => undefined)
  rmSync(dir, { recursive: true, force: true })
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
  await admin.end()
}
