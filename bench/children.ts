// What every benchmark script shares: integer knobs from the environment, and the server processes
// it starts (their output's tail kept for error messages, stopped with SIGTERM then SIGKILL).
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The repository's root: where the child processes run `src/main.ts`. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** An integer knob `name` of the environment (≥ `min`), or `fallback` when unset; a bad value throws, naming it. */
export function intEnv(name: string, fallback: number, min = 1): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got "${raw}"`)
  return n
}

/** A process a benchmark started. */
export interface Child {
  name: string
  proc: ChildProcess
  /** The last few KB of its stdout and stderr, for error messages. */
  output(): string
  /** Where it listens, for servers started with a port. */
  url?: string
}

/** Node with `args` in the repository, its output's last `keepBytes` kept. */
export function startChild(name: string, args: string[], env: NodeJS.ProcessEnv, keepBytes = 16_000): Child {
  const proc = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let tail = ''
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-keepBytes)
  }
  proc.stdout!.on('data', keep)
  proc.stderr!.on('data', keep)
  return { name, proc, output: () => tail }
}

/** SIGTERM, then SIGKILL after 20 s; resolves once it exited (at once if it had). */
export async function stopChild(child: Child): Promise<void> {
  const { proc } = child
  if (proc.exitCode !== null || proc.signalCode !== null) return
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  proc.kill('SIGTERM')
  const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000)
  await exited
  clearTimeout(timer)
}
