import { spawn, type ChildProcess } from 'node:child_process'
import { appendFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterAll, inject } from 'vitest'

export const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url))

/** A free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/** Run the CLI to completion; resolves with its exit code and output. */
export function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.once('error', reject)
    child.once('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

export interface ServerProcess {
  child: ChildProcess
  url: string
  output(): string
  /** Send a signal and wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/** Start `switchboard <role>` on a free port and wait until /readyz answers. */
export async function startServer(env: Record<string, string>, role = 'serve', timeoutMs = 30_000): Promise<ServerProcess> {
  const port = await freePort()
  const child = spawn(process.execPath, [MAIN, role], {
    env: { ...process.env, LOG_LEVEL: process.env.TEST_SERVER_LOG ?? 'warn', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  const debugFile = process.env.TEST_SERVER_LOG ? `/tmp/switchboard-server-${port}.log` : undefined
  const collect = (d: Buffer) => {
    out += d
    if (debugFile) appendFileSync(debugFile, d)
  }
  child.stdout!.on('data', collect)
  child.stderr!.on('data', collect)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early (${child.exitCode}):\n${out}`)
    try {
      const r = await fetch(url + '/readyz')
      if (r.ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`server not ready in ${timeoutMs} ms:\n${out}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    child, url, output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal)
      return exited
    },
  }
}

/**
 * The environment a CLI or server child process gets in tests: its own data dir, and the run's
 * store (a fresh embedded store in that dir on PGlite, the run's database on PostgreSQL).
 */
export function storeEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SWITCHBOARD_DATA_DIR: dataDir,
    DATABASE_URL: inject('store') === 'postgres' ? inject('databaseUrl') : '',
    ...extra,
  }
}

/**
 * The environment of a child process that must use the embedded store in `dataDir` whatever the
 * run's store: for tests of the embedded store itself (its first start, several processes on one
 * directory). CI runs the slow tests on PostgreSQL only, so such a test must not follow the run's
 * store (storeEnv) or it would never run there.
 */
export function embeddedStoreEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return { SWITCHBOARD_DATA_DIR: dataDir, DATABASE_URL: '', ...extra }
}

/** Servers a test file started; each is killed after the file's tests. */
export function serversKilledAfterAll(): ServerProcess[] {
  const running: ServerProcess[] = []
  afterAll(async () => {
    for (const s of running) await s.stop('SIGKILL')
  })
  return running
}
