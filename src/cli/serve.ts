import { createServer } from 'node:net'
import { pino } from 'pino'
import { buildApp } from '../app.ts'
import { withListenPort, type Config } from '../config.ts'
import type { Store } from '../db/store.ts'
import { createMetrics } from '../http/metrics.ts'
import { NotificationScheduler } from '../jobs/notification-scheduler.ts'
import { createServices } from '../services.ts'
import { ensureDemoTenant } from './demo.ts'
import { fail, openMigrated, type CliIo } from './io.ts'

/** Which parts of the server a process runs: `serve` both, `api` and `worker` one each. */
export interface Roles { api: boolean; worker: boolean }

/** Why a listen failed, in the operator's terms (the port or HOST named). */
function listenProblem(err: NodeJS.ErrnoException, host: string, port: number): string | undefined {
  if (err.code === 'EADDRINUSE') return `cannot listen on ${host}:${port}: the port is in use (another server runs there?). Set PORT to a free port, or PORT=0 for any.`
  if (err.code === 'EACCES') return `cannot listen on ${host}:${port}: permission denied (ports below 1024 need privileges). Set PORT.`
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' || err.code === 'EAI_NONAME') {
    return `cannot listen on HOST=${host}: ${err.code === 'EADDRNOTAVAIL' ? 'no interface of this machine has that address' : 'the name does not resolve'}`
  }
  return undefined
}

/**
 * Bind HOST:PORT for a moment, before anything is created: a port in use or a HOST that is no
 * address here stops the start with nothing written. Resolves with the port (PORT=0: the one the
 * system chose, which the server then binds for good).
 */
async function reservePort(host: string, port: number): Promise<number> {
  const probe = createServer()
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject)
      probe.listen({ host, port, exclusive: true }, () => resolve())
    })
  } catch (err) {
    const problem = listenProblem(err as NodeJS.ErrnoException, host, port)
    if (problem) fail(problem, 1)
    throw err
  }
  const bound = (probe.address() as { port: number }).port
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return bound
}

/**
 * `switchboard serve|api|worker`: resolves with the exit code once the server has stopped
 * (SIGTERM/SIGINT: stop accepting, finish in-flight requests and jobs, close the store).
 * A signal during start-up is acknowledged at once on stderr and ends the start-up at its next
 * step (a second one exits at once).
 */
export async function serveCommand(initial: Config, roles: Roles, io: CliIo): Promise<number> {
  const log = pino({ level: initial.logLevel, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime })
  const abort = new AbortController()
  let stopRequested: string | undefined
  const running: { stop?: (signal: string) => void } = {}
  const onSignal = (signal: string) => {
    if (running.stop) return running.stop(signal)
    if (stopRequested) {
      io.stderr.write(`switchboard: ${signal} again: exiting now\n`)
      io.exit?.(130)
      return
    }
    stopRequested = signal
    io.stderr.write(`switchboard: ${signal} received during start-up: stopping (again to exit at once)\n`)
    abort.abort()
  }
  const onTerm = () => onSignal('SIGTERM')
  const onInt = () => onSignal('SIGINT')
  process.on('SIGTERM', onTerm)
  process.on('SIGINT', onInt)

  // Undone in reverse order when the start-up fails or is interrupted.
  const undo: Array<() => Promise<unknown>> = []
  const unwind = async () => {
    for (const step of undo.reverse()) await step().catch((err: unknown) => log.error({ err }, 'error while stopping'))
  }
  const interrupted = async () => {
    await unwind()
    log.info({ signal: stopRequested }, 'stopped during start-up')
    return 0
  }

  let config = initial
  let store: Store
  try {
    if (roles.api) config = withListenPort(config, await reservePort(config.host, config.port))
    store = await openMigrated(config, abort.signal)
  } catch (err) {
    if (stopRequested) return interrupted()
    throw err
  }
  undo.push(() => store.close())
  if (stopRequested) return interrupted()
  try {
    const services = createServices(config, store, { logger: log.child({ component: 'jobs' }) })
    undo.push(() => services.providers.close())
    const metrics = createMetrics()
    if (roles.worker) {
      // Before the API: it then enqueues through this started queue, and its workers wake at once.
      undo.push(() => services.jobs.stop({ timeoutMs: 20_000 }))
      await services.jobs.start({ supervise: true })
      await services.jobs.work()
    }
    // Check-ins and autopings: firing loops in every worker process (exactly once across processes).
    // On the embedded store a batch holds the only database session, so batches stay small there.
    const embedded = store.kind !== 'postgres'
    const scheduler = roles.worker
      ? new NotificationScheduler({
        fire: (o) => services.firing.fireDue(o), logger: log.child({ component: 'scheduler' }),
        batchSize: config.firingBatch ?? (embedded ? 20 : 200), concurrency: embedded ? 1 : 4,
      })
      : undefined
    scheduler?.start()
    if (scheduler) undo.push(() => scheduler.stop())
    // Contact-center routing: every worker sweeps for expired offers and unoffered waiting sessions
    // (API processes kick routing themselves after each change; the sweep catches the rest).
    if (roles.worker) {
      services.routing.startSweeper()
      undo.push(async () => services.routing.stopSweeper())
      // Chat lifecycle: dismissal of inactive chats and the end of agents' wrap-up (exactly once across processes).
      services.chats.startSweeper()
      undo.push(async () => services.chats.stopSweeper())
    }
    if (stopRequested) return interrupted()
    const app = roles.api ? await buildApp({ services, metrics, logger: log }) : undefined
    if (app) {
      undo.push(() => app.close())
      try {
        await app.listen({ port: config.port, host: config.host })
      } catch (err) {
        const problem = listenProblem(err as NodeJS.ErrnoException, config.host, config.port)
        if (problem) fail(problem, 1)
        throw err
      }
    }
    if (stopRequested) return interrupted()
    // Only once the port is ours: what it prints is then true.
    await ensureDemoTenant(config, services, log, (text) => io.stdout.write(text))
    if (app) log.info({ url: config.publicUrl, store: store.kind }, 'switchboard is listening')
    if (roles.worker) log.info({ store: store.kind }, 'workers and scheduler started')

    return await new Promise<number>((resolve) => {
      let stopping = false
      const stop = async (signal: string) => {
        if (stopping) return
        stopping = true
        log.info({ signal }, 'shutting down: finishing in-flight requests and jobs')
        const force = setTimeout(() => {
          log.error('shutdown took longer than 30 s; exiting')
          io.exit?.(1)
        }, 30_000)
        force.unref()
        try {
          if (app) await app.close()
          log.info('http server closed')
          // A firing batch in flight commits or rolls back whole; then no new one starts.
          await scheduler?.stop()
          services.routing.stopSweeper()
          services.chats.stopSweeper()
          // Jobs in flight finish (or, past the deadline, are failed to be retried) before the store closes.
          await services.jobs.stop({ timeoutMs: 20_000 })
          log.info('job workers stopped')
          // Pooled vendor connections (SMTP, HTTP/2 to APNs) close once no job can use them.
          await services.providers.close()
          await store.close()
          log.info('stopped')
          resolve(0)
        } catch (err) {
          log.error({ err }, 'error while shutting down')
          resolve(1)
        } finally {
          clearTimeout(force)
          process.off('SIGTERM', onTerm)
          process.off('SIGINT', onInt)
        }
      }
      running.stop = (signal) => void stop(signal)
      if (stopRequested) void stop(stopRequested)
    })
  } catch (err) {
    await unwind()
    throw err
  }
}
