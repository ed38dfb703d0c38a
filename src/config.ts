import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { resolve, join } from 'node:path'
import { isValidAllowEntry, type UrlPolicy } from './lib/url-safety.ts'

/** Log levels pino accepts. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** The whole configuration, parsed once from the environment. */
export interface Config {
  readonly port: number
  readonly host: string
  /** A PostgreSQL URL; absent means the embedded store in `dataDir`. */
  readonly databaseUrl: string | undefined
  readonly dataDir: string
  /** 32-byte key for AES-256-GCM of provider credentials. */
  readonly secretKey: Buffer
  readonly logLevel: LogLevel
  /** Public base URL used in printed examples and links. */
  readonly publicUrl: string
  /** How often a worker process fails expired or heartbeat-dead job attempts so they retry (s). */
  readonly jobSuperviseSeconds: number
  /** Seconds before the first retry of a failed delivery (then doubling with jitter). */
  readonly deliveryRetrySeconds: number
  /** SWITCHBOARD_FIRING_BATCH: due check-ins one firing transaction takes (undefined: 200 on PostgreSQL, 20 embedded). */
  readonly firingBatch: number | undefined
  /** Which tenant-supplied URLs (callbacks, webhooks, provider endpoints) may point at private addresses. */
  readonly urlPolicy: UrlPolicy
  /** Serve `/sandbox` (the outbox page and "answer as the person"). Default on. */
  readonly sandboxPage: boolean
}

/** Thrown when the environment is invalid; `main` prints it and exits non-zero. */
export class ConfigError extends Error {
  readonly variable: string
  constructor(variable: string, message: string) {
    super(`Invalid configuration: ${variable} ${message}`)
    this.variable = variable
  }
}

function parsePort(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 8080
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) throw new ConfigError('PORT', `must be an integer 0-65535, got "${raw}"`)
  return Number(raw)
}

function parseDatabaseUrl(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError('DATABASE_URL', 'is not a URL (expected postgres://user:pass@host:5432/db)')
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL', `must use the postgres:// scheme, got "${url.protocol}"`)
  }
  return raw
}

function parseSecretKey(raw: string | undefined, dataDir: string): Buffer {
  if (raw !== undefined && raw !== '') {
    const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64')
    if (key.length !== 32) {
      throw new ConfigError('SWITCHBOARD_SECRET_KEY', 'must be 32 bytes, as 64 hex characters or base64')
    }
    return key
  }
  // Embedded default: generate once into the data directory so restarts keep decrypting.
  const file = join(dataDir, 'secret.key')
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'hex')
  mkdirSync(dataDir, { recursive: true })
  const key = randomBytes(32)
  writeFileSync(file, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' })
  return key
}

/** SWITCHBOARD_ALLOW_PRIVATE_URLS and SWITCHBOARD_ALLOWED_URL_HOSTS (comma-separated hosts, IPs, CIDRs). */
function parseUrlPolicy(env: NodeJS.ProcessEnv): UrlPolicy {
  const raw = (env.SWITCHBOARD_ALLOW_PRIVATE_URLS ?? '').trim().toLowerCase()
  if (!['', 'true', 'false', '1', '0'].includes(raw)) {
    throw new ConfigError('SWITCHBOARD_ALLOW_PRIVATE_URLS', `must be true or false, got "${env.SWITCHBOARD_ALLOW_PRIVATE_URLS}"`)
  }
  const allowedHosts = (env.SWITCHBOARD_ALLOWED_URL_HOSTS ?? '').split(',').map((h) => h.trim()).filter((h) => h !== '')
  for (const h of allowedHosts) {
    if (!isValidAllowEntry(h)) throw new ConfigError('SWITCHBOARD_ALLOWED_URL_HOSTS', `has "${h}", which is not a host name, IP address or CIDR range`)
  }
  return Object.freeze({ allowPrivate: raw === 'true' || raw === '1', allowedHosts: Object.freeze(allowedHosts) })
}

function parseSeconds(env: NodeJS.ProcessEnv, name: string, fallback: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) throw new ConfigError(name, `must be an integer 1-${max}, got "${raw}"`)
  return Number(raw)
}

/** Parse `env` into a frozen Config; throws ConfigError naming the bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = parsePort(env.PORT)
  const host = env.HOST && env.HOST !== '' ? env.HOST : '127.0.0.1'
  const databaseUrl = parseDatabaseUrl(env.DATABASE_URL)
  const dataDir = resolve(env.SWITCHBOARD_DATA_DIR && env.SWITCHBOARD_DATA_DIR !== '' ? env.SWITCHBOARD_DATA_DIR : './data')
  const level = (env.LOG_LEVEL ?? 'info').toLowerCase()
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`)
  }
  const secretKey = parseSecretKey(env.SWITCHBOARD_SECRET_KEY, dataDir)
  const urlPolicy = parseUrlPolicy(env)
  const sandboxRaw = (env.SWITCHBOARD_SANDBOX ?? '').trim().toLowerCase()
  if (!['', 'true', 'false', 'on', 'off', '1', '0'].includes(sandboxRaw)) {
    throw new ConfigError('SWITCHBOARD_SANDBOX', `must be true or false, got "${env.SWITCHBOARD_SANDBOX}"`)
  }
  // Off in production deployments that do not want anyone to inject inbound messages by hand.
  const sandboxPage = !['false', 'off', '0'].includes(sandboxRaw)
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  const publicUrl = env.SWITCHBOARD_PUBLIC_URL && env.SWITCHBOARD_PUBLIC_URL !== '' ? env.SWITCHBOARD_PUBLIC_URL.replace(/\/$/, '') : `http://${shownHost}:${port}`
  const jobSuperviseSeconds = parseSeconds(env, 'SWITCHBOARD_JOB_SUPERVISE_SECONDS', 60, 3600)
  const deliveryRetrySeconds = parseSeconds(env, 'SWITCHBOARD_DELIVERY_RETRY_SECONDS', 10, 3600)
  const firingBatch = env.SWITCHBOARD_FIRING_BATCH === undefined || env.SWITCHBOARD_FIRING_BATCH === '' ? undefined : parseSeconds(env, 'SWITCHBOARD_FIRING_BATCH', 200, 10_000)
  return Object.freeze({ port, host, databaseUrl, dataDir, secretKey, logLevel: level as LogLevel, publicUrl, urlPolicy, jobSuperviseSeconds, deliveryRetrySeconds, firingBatch, sandboxPage })
}
