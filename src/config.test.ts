import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig, withListenPort } from './config.ts'

const dir = () => mkdtempSync(join(tmpdir(), 'sb-config-'))

describe('loadConfig', () => {
  it('has working defaults and generates the secret key into the data dir once', () => {
    const dataDir = dir()
    const a = loadConfig({ SWITCHBOARD_DATA_DIR: dataDir })
    expect(a).toMatchObject({ port: 8080, host: '127.0.0.1', databaseUrl: undefined, dataDir, logLevel: 'info', publicUrl: 'http://127.0.0.1:8080' })
    expect(a.secretKey).toHaveLength(32)
    expect(readFileSync(join(dataDir, 'secret.key'), 'utf8').trim()).toBe(a.secretKey.toString('hex'))
    const b = loadConfig({ SWITCHBOARD_DATA_DIR: dataDir })
    expect(b.secretKey.equals(a.secretKey)).toBe(true)
    expect(Object.isFrozen(a)).toBe(true)
  })

  it('serves the sandbox page unless SWITCHBOARD_SANDBOX turns it off', () => {
    expect(loadConfig({ SWITCHBOARD_DATA_DIR: dir() }).sandboxPage).toBe(true)
    expect(loadConfig({ SWITCHBOARD_DATA_DIR: dir(), SWITCHBOARD_SANDBOX: 'false' }).sandboxPage).toBe(false)
    expect(loadConfig({ SWITCHBOARD_DATA_DIR: dir(), SWITCHBOARD_SANDBOX: 'on' }).sandboxPage).toBe(true)
  })

  it('trusts no proxy unless SWITCHBOARD_TRUST_PROXY names them: true, a hop count, or addresses and ranges', () => {
    expect(loadConfig({ SWITCHBOARD_DATA_DIR: dir() }).trustProxy).toBe(false)
    expect(loadConfig({ SWITCHBOARD_DATA_DIR: dir(), SWITCHBOARD_TRUST_PROXY: 'true' }).trustProxy).toBe(true)
    expect(loadConfig({ SWITCHBOARD_DATA_DIR: dir(), SWITCHBOARD_TRUST_PROXY: '2' }).trustProxy).toBe(2)
    expect(loadConfig({ SWITCHBOARD_DATA_DIR: dir(), SWITCHBOARD_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1' }).trustProxy).toEqual(['10.0.0.0/8', '127.0.0.1', '::1'])
  })

  it('reads every variable', () => {
    const c = loadConfig({ PORT: '9000', HOST: '0.0.0.0', DATABASE_URL: 'postgres://u:p@db:5432/x', SWITCHBOARD_DATA_DIR: dir(), SWITCHBOARD_SECRET_KEY: 'ab'.repeat(32), LOG_LEVEL: 'WARN' })
    expect(c).toMatchObject({ port: 9000, host: '0.0.0.0', databaseUrl: 'postgres://u:p@db:5432/x', logLevel: 'warn', publicUrl: 'http://127.0.0.1:9000' })
    expect(c.secretKey.toString('hex')).toBe('ab'.repeat(32))
    expect(c.firingBatch).toBeUndefined()
    expect(loadConfig({ SWITCHBOARD_DATA_DIR: dir(), SWITCHBOARD_FIRING_BATCH: '50' }).firingBatch).toBe(50)
  })

  it.each([
    ['PORT', { PORT: 'eighty' }],
    ['PORT', { PORT: '70000' }],
    ['DATABASE_URL', { DATABASE_URL: 'not a url' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://localhost/db' }],
    ['SWITCHBOARD_SECRET_KEY', { SWITCHBOARD_SECRET_KEY: 'short' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
    ['SWITCHBOARD_SANDBOX', { SWITCHBOARD_SANDBOX: 'maybe' }],
    ['SWITCHBOARD_FIRING_BATCH', { SWITCHBOARD_FIRING_BATCH: '0' }],
    ['SWITCHBOARD_FIRING_BATCH', { SWITCHBOARD_FIRING_BATCH: '20000' }],
    ['SWITCHBOARD_TRUST_PROXY', { SWITCHBOARD_TRUST_PROXY: 'lb.example.org' }],
    ['SWITCHBOARD_TRUST_PROXY', { SWITCHBOARD_TRUST_PROXY: '99' }],
    ['SWITCHBOARD_TRUST_PROXY', { SWITCHBOARD_TRUST_PROXY: '10.0.0.0/99' }],
    ['HOST', { HOST: 'not a host' }],
    ['HOST', { HOST: 'bad_host!' }],
    ['SWITCHBOARD_PUBLIC_URL', { SWITCHBOARD_PUBLIC_URL: 'notaurl' }],
    ['SWITCHBOARD_PUBLIC_URL', { SWITCHBOARD_PUBLIC_URL: 'ftp://files.example.org' }],
    ['SWITCHBOARD_PUBLIC_URL', { SWITCHBOARD_PUBLIC_URL: 'https://u:p@sb.example.org' }],
  ])('names %s when it is invalid', (variable, env) => {
    let error: unknown
    try {
      loadConfig({ SWITCHBOARD_DATA_DIR: dir(), ...env })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).variable).toBe(variable)
    expect((error as Error).message).toContain(variable)
  })

  it('takes host names and IP addresses for HOST, and a public URL that follows the bound port', () => {
    for (const host of ['localhost', 'sb-1.internal', '10.0.0.7', '::1', '0.0.0.0']) expect(loadConfig({ SWITCHBOARD_DATA_DIR: dir(), HOST: host }).host).toBe(host)
    expect(loadConfig({ SWITCHBOARD_DATA_DIR: dir(), HOST: '::1', PORT: '81' }).publicUrl).toBe('http://[::1]:81')
    const any = loadConfig({ SWITCHBOARD_DATA_DIR: dir(), PORT: '0' })
    expect(any.publicUrl).toBe('http://127.0.0.1:0')
    expect(withListenPort(any, 41234)).toMatchObject({ port: 41234, publicUrl: 'http://127.0.0.1:41234' })
    const set = loadConfig({ SWITCHBOARD_DATA_DIR: dir(), PORT: '0', SWITCHBOARD_PUBLIC_URL: 'https://sb.example.org/' })
    expect(withListenPort(set, 41234)).toMatchObject({ port: 41234, publicUrl: 'https://sb.example.org' })
  })

  it('writes no generated key for a configuration it refuses', () => {
    const dataDir = dir()
    expect(() => loadConfig({ SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_SANDBOX: 'maybe' })).toThrow(ConfigError)
    expect(existsSync(join(dataDir, 'secret.key'))).toBe(false)
  })

  it('refuses a secret key file that holds no key, naming the variable, and leaves no temporary file', () => {
    const dataDir = dir()
    writeFileSync(join(dataDir, 'secret.key'), '')
    expect(() => loadConfig({ SWITCHBOARD_DATA_DIR: dataDir })).toThrow(/SWITCHBOARD_SECRET_KEY/)
    const fresh = dir()
    loadConfig({ SWITCHBOARD_DATA_DIR: fresh })
    expect(readdirSync(fresh)).toEqual(['secret.key'])
  })
})
