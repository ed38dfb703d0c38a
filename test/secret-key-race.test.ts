import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it } from 'vitest'

// Several processes starting on one fresh data directory at once each generate a secret key; one
// key must win and every process must use it (a second writer used to fail with EEXIST, or read
// the winner's file while it was still empty).
const CONFIG = new URL('../src/config.ts', import.meta.url).pathname
const SCRIPT = `const { loadConfig } = await import(${JSON.stringify(CONFIG)}); process.stdout.write(loadConfig({ SWITCHBOARD_DATA_DIR: process.argv[1] }).secretKey.toString('hex'))`

function loadKeyInChild(dataDir: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', SCRIPT, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('close', (code) => resolve({ code, out, err }))
  })
}

it('gives processes started at once on a fresh directory one secret key', async () => {
  for (let round = 0; round < 5; round++) {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-key-race-'))
    const results = await Promise.all(Array.from({ length: 8 }, () => loadKeyInChild(dataDir)))
    for (const r of results) expect(r, r.err).toMatchObject({ code: 0 })
    const keys = new Set(results.map((r) => r.out))
    expect(keys.size).toBe(1)
    expect(readFileSync(join(dataDir, 'secret.key'), 'utf8').trim()).toBe([...keys][0])
    expect(readdirSync(dataDir)).toEqual(['secret.key'])
  }
})
