import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { lockHolder, releaseLock, tryLock } from './dir-lock.ts'

const lockFile = () => join(mkdtempSync(join(tmpdir(), 'sb-lock-')), 'embedded.lock')

/** A pid that ran and is gone. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
  return Number(r.stdout)
}

describe('the data directory lock', () => {
  it('is taken once: a second take fails while the holder lives, and succeeds once it is released', () => {
    const file = lockFile()
    expect(tryLock(file)).toBe(true)
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ pid: process.pid })
    expect(lockHolder(file)).toBe(process.pid)
    expect(tryLock(file)).toBe(false)
    releaseLock(file)
    expect(existsSync(file)).toBe(false)
    expect(tryLock(file)).toBe(true)
    releaseLock(file)
  })

  it('breaks a lock whose process is gone, and leaves one whose process lives', () => {
    const stale = lockFile()
    writeFileSync(stale, JSON.stringify({ pid: deadPid() }))
    expect(lockHolder(stale)).toBeUndefined()
    expect(tryLock(stale)).toBe(true)
    expect(lockHolder(stale)).toBe(process.pid)
    releaseLock(stale)

    const live = lockFile()
    writeFileSync(live, JSON.stringify({ pid: process.ppid }))
    expect(tryLock(live)).toBe(false)
    releaseLock(live) // not ours: stays
    expect(existsSync(live)).toBe(true)
  })

  it('treats a just-created, still empty lock as held, and an old unreadable one as stale', () => {
    const young = lockFile()
    writeFileSync(young, '')
    expect(tryLock(young)).toBe(false)
    const old = lockFile()
    writeFileSync(old, '')
    const past = new Date(Date.now() - 60_000)
    utimesSync(old, past, past)
    expect(tryLock(old)).toBe(true)
    releaseLock(old)
  })
})
