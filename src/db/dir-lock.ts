import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'

/** What a lock file holds: the owner's pid. */
interface LockContent { pid: number }

/** Whether a process with this pid runs (EPERM: it does, under another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

// A process that exits without closing its store (process.exit on a fatal error) leaves no lock
// behind; a killed one leaves a lock whose pid is gone, which the next process breaks.
const held = new Set<string>()
process.on('exit', () => {
  for (const file of held) {
    try {
      releaseLock(file)
    } catch {
      // exiting anyway
    }
  }
})

/** A lock file that was just created may still be empty: its writer is alive that long. */
const YOUNG_MS = 5_000
/** A break file older than this was left by a process that died while breaking a stale lock. */
const BREAK_STALE_MS = 10_000

type Read = { state: 'gone' } | { state: 'held'; pid: number } | { state: 'unreadable'; ageMs: number }

function readLock(file: string): Read {
  let text: string
  let ageMs: number
  try {
    ageMs = Date.now() - statSync(file).mtimeMs
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'gone' }
    throw err
  }
  try {
    const pid = (JSON.parse(text) as LockContent).pid
    if (Number.isInteger(pid) && pid > 0) return { state: 'held', pid }
  } catch {
    // half-written or foreign content
  }
  return { state: 'unreadable', ageMs }
}

/** The pid holding `file`, when a live process holds it. */
export function lockHolder(file: string): number | undefined {
  const r = readLock(file)
  return r.state === 'held' && pidAlive(r.pid) ? r.pid : undefined
}

function isStale(r: Read): boolean {
  if (r.state === 'held') return !pidAlive(r.pid)
  return r.state === 'unreadable' && r.ageMs > YOUNG_MS
}

/**
 * Remove a stale lock, under a second lock file so that two processes that both saw it stale
 * cannot both remove it (the second would remove the lock the first has taken meanwhile).
 */
function breakStale(file: string): void {
  const breaker = `${file}.break`
  try {
    writeFileSync(breaker, JSON.stringify({ pid: process.pid }), { flag: 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    const b = readLock(breaker)
    const age = (() => { try { return Date.now() - statSync(breaker).mtimeMs } catch { return 0 } })()
    if ((b.state === 'held' && !pidAlive(b.pid)) || age > BREAK_STALE_MS) rmSync(breaker, { force: true })
    return
  }
  try {
    if (isStale(readLock(file))) rmSync(file, { force: true })
  } finally {
    rmSync(breaker, { force: true })
  }
}

/**
 * Take the exclusive lock `file` (an atomic create holding our pid). Returns false while a live
 * process holds it; a lock whose process is gone is broken and taken.
 */
export function tryLock(file: string): boolean {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      writeFileSync(file, JSON.stringify({ pid: process.pid } satisfies LockContent) + '\n', { flag: 'wx', mode: 0o600 })
      held.add(file)
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const r = readLock(file)
    if (r.state === 'gone') continue
    if (!isStale(r)) return false
    breakStale(file)
  }
  return false
}

/** Give the lock up (only when this process holds it). */
export function releaseLock(file: string): void {
  held.delete(file)
  const r = readLock(file)
  if (r.state === 'held' && r.pid === process.pid) rmSync(file, { force: true })
}
