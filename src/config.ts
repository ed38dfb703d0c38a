import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { isIP } from 'node:net'
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
  /** Whether SWITCHBOARD_PUBLIC_URL set `publicUrl` (otherwise it follows HOST and PORT). */
  readonly publicUrlSet: boolean
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
  /** Attachments: where the local store keeps them, the largest upload, how long signed URLs live. */
  readonly files: FilesConfig
  /**
   * SWITCHBOARD_CCAI_DOMAIN: the domain under which the Apps API is served as `{subdomain}.{domain}`
   * (e.g. `cc.example.org`). A request to such a host must name the tenant of its credentials; on any
   * other host (localhost, an IP, one shared name) the tenant is the Basic-auth user name. Unset: no
   * host is taken for a subdomain.
   */
  readonly ccaiDomain: string | undefined
  /**
   * SWITCHBOARD_TRUST_PROXY: which reverse proxies' `X-Forwarded-For`/`-Proto`/`-Host` to believe,
   * so the client address (sign-in lockout, logs) is the real one behind a load balancer: `false`
   * (default: the connecting address), `true` (any), a hop count, or addresses/CIDR ranges.
   */
  readonly trustProxy: boolean | number | readonly string[]
}

/** Configuration of the files domain (SWITCHBOARD_FILES_*). */
export interface FilesConfig {
  /** SWITCHBOARD_FILES_DIR: the local store's directory (default `<data dir>/files`). */
  readonly dir: string
  /** SWITCHBOARD_FILES_MAX_BYTES: the largest upload accepted (default 25 MiB). */
  readonly maxBytes: number
  /** SWITCHBOARD_FILES_URL_SECONDS: lifetime of a signed upload or download URL (default 900). */
  readonly urlSeconds: number
  /** SWITCHBOARD_FILES_STORE=s3: an S3-compatible bucket instead of the local directory. */
  readonly s3: S3Config | undefined
}

/** An S3-compatible bucket for files (SWITCHBOARD_S3_*). */
export interface S3Config {
  /** SWITCHBOARD_S3_ENDPOINT (default `https://s3.<region>.amazonaws.com`). */
  readonly endpoint: string
  /** SWITCHBOARD_S3_REGION (default `us-east-1`). */
  readonly region: string
  /** SWITCHBOARD_S3_BUCKET (required). */
  readonly bucket: string
  /** SWITCHBOARD_S3_ACCESS_KEY_ID and SWITCHBOARD_S3_SECRET_ACCESS_KEY (required). */
  readonly accessKeyId: string
  readonly secretAccessKey: string
  /** SWITCHBOARD_S3_PATH_STYLE: `<endpoint>/<bucket>/<key>` URLs (MinIO and the like). Default false. */
  readonly pathStyle: boolean
  /**
   * SWITCHBOARD_S3_DIRECT: clients upload to and download from the bucket with presigned URLs.
   * Default false: they go through `/files`, which enforces the size limit (a presigned PUT cannot).
   */
  readonly direct: boolean
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
  if (existsSync(file)) return readSecretKey(file)
  mkdirSync(dataDir, { recursive: true })
  // Several processes may start on a fresh directory at once: each writes its key to a file of its
  // own and links it into place, which succeeds for one of them only, and the file appears whole.
  // The others read the winner's key.
  const key = randomBytes(32)
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`
  writeFileSync(tmp, key.toString('hex') + '\n', { mode: 0o600 })
  try {
    linkSync(tmp, file)
    return key
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    return readSecretKey(file)
  } finally {
    rmSync(tmp, { force: true })
  }
}

function readSecretKey(file: string): Buffer {
  const text = readFileSync(file, 'utf8').trim()
  if (!/^[0-9a-fA-F]{64}$/.test(text)) throw new ConfigError('SWITCHBOARD_SECRET_KEY', `is not set and ${file} does not hold a key (64 hex characters)`)
  return Buffer.from(text, 'hex')
}

/** A host name (RFC 1123 labels) or an IP address, as HOST takes it. */
function parseHost(raw: string | undefined): string {
  if (raw === undefined || raw === '') return '127.0.0.1'
  const name = /^(?=.{1,253}\.?$)[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$/
  if (isIP(raw) === 0 && !name.test(raw)) throw new ConfigError('HOST', `must be a host name or an IP address (0.0.0.0 for all interfaces), got "${raw}"`)
  return raw
}

/** SWITCHBOARD_PUBLIC_URL: an absolute http(s) URL without credentials, query or fragment. */
function parsePublicUrl(raw: string): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError('SWITCHBOARD_PUBLIC_URL', `is not a URL (expected e.g. https://switchboard.example.org), got "${raw}"`)
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new ConfigError('SWITCHBOARD_PUBLIC_URL', `must be an http:// or https:// URL, got "${raw}"`)
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new ConfigError('SWITCHBOARD_PUBLIC_URL', `must not carry credentials, a query or a fragment, got "${raw}"`)
  }
  return raw.replace(/\/$/, '')
}

/** The URL printed and used for callbacks when SWITCHBOARD_PUBLIC_URL is not set. */
function defaultPublicUrl(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  return `http://${isIP(shown) === 6 ? `[${shown}]` : shown}:${port}`
}

/**
 * The configuration once the server is bound: `PORT=0` became a real port, and a public URL that
 * follows HOST and PORT says so.
 */
export function withListenPort(config: Config, port: number): Config {
  return Object.freeze({ ...config, port, publicUrl: config.publicUrlSet ? config.publicUrl : defaultPublicUrl(config.host, port) })
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

function parseFlag(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase()
  if (!['', 'true', 'false', '1', '0'].includes(raw)) throw new ConfigError(name, `must be true or false, got "${env[name]}"`)
  return raw === 'true' || raw === '1'
}

/** SWITCHBOARD_FILES_STORE (`local` or `s3`) and, for `s3`, the bucket's SWITCHBOARD_S3_* settings. */
function parseS3(env: NodeJS.ProcessEnv): S3Config | undefined {
  const store = (env.SWITCHBOARD_FILES_STORE ?? '').trim().toLowerCase()
  if (store === '' || store === 'local') return undefined
  if (store !== 's3') throw new ConfigError('SWITCHBOARD_FILES_STORE', `must be local or s3, got "${env.SWITCHBOARD_FILES_STORE}"`)
  const required = (name: string) => {
    const value = env[name]
    if (value === undefined || value.trim() === '') throw new ConfigError(name, 'is required when SWITCHBOARD_FILES_STORE=s3')
    return value.trim()
  }
  const region = (env.SWITCHBOARD_S3_REGION ?? '').trim() || 'us-east-1'
  if (!/^[a-z0-9-]{1,40}$/.test(region)) throw new ConfigError('SWITCHBOARD_S3_REGION', `must be a region name like eu-central-1, got "${region}"`)
  const endpoint = (env.SWITCHBOARD_S3_ENDPOINT ?? '').trim() || `https://s3.${region}.amazonaws.com`
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    throw new ConfigError('SWITCHBOARD_S3_ENDPOINT', `is not a URL, got "${endpoint}"`)
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password || url.search || url.hash) {
    throw new ConfigError('SWITCHBOARD_S3_ENDPOINT', `must be an http:// or https:// URL without credentials, query or fragment, got "${endpoint}"`)
  }
  const bucket = required('SWITCHBOARD_S3_BUCKET')
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new ConfigError('SWITCHBOARD_S3_BUCKET', `is not a bucket name, got "${bucket}"`)
  return Object.freeze({
    endpoint: endpoint.replace(/\/$/, ''), region, bucket,
    accessKeyId: required('SWITCHBOARD_S3_ACCESS_KEY_ID'), secretAccessKey: required('SWITCHBOARD_S3_SECRET_ACCESS_KEY'),
    pathStyle: parseFlag(env, 'SWITCHBOARD_S3_PATH_STYLE'), direct: parseFlag(env, 'SWITCHBOARD_S3_DIRECT'),
  })
}

/** SWITCHBOARD_TRUST_PROXY: true/false, a hop count (1-10), or comma-separated IP addresses and CIDR ranges. */
function parseTrustProxy(raw: string | undefined): boolean | number | readonly string[] {
  const text = (raw ?? '').trim().toLowerCase()
  if (text === '' || text === 'false' || text === '0') return false
  if (text === 'true') return true
  if (/^\d+$/.test(text)) {
    const hops = Number(text)
    if (hops > 10) throw new ConfigError('SWITCHBOARD_TRUST_PROXY', `must be true, false, a hop count 1-10 or addresses, got "${raw}"`)
    return hops
  }
  const entries = text.split(',').map((e) => e.trim()).filter((e) => e !== '')
  for (const e of entries) {
    if (!/^[0-9a-f.:]+(\/\d{1,3})?$/.test(e) || !isValidAllowEntry(e)) {
      throw new ConfigError('SWITCHBOARD_TRUST_PROXY', `has "${e}", which is not an IP address or CIDR range (or true, false, a hop count)`)
    }
  }
  return Object.freeze(entries)
}

/** Parse `env` into a frozen Config; throws ConfigError naming the bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = parsePort(env.PORT)
  const host = parseHost(env.HOST)
  const publicUrlSet = env.SWITCHBOARD_PUBLIC_URL !== undefined && env.SWITCHBOARD_PUBLIC_URL !== ''
  const publicUrl = publicUrlSet ? parsePublicUrl(env.SWITCHBOARD_PUBLIC_URL!) : defaultPublicUrl(host, port)
  const databaseUrl = parseDatabaseUrl(env.DATABASE_URL)
  const dataDir = resolve(env.SWITCHBOARD_DATA_DIR && env.SWITCHBOARD_DATA_DIR !== '' ? env.SWITCHBOARD_DATA_DIR : './data')
  const level = (env.LOG_LEVEL ?? 'info').toLowerCase()
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`)
  }
  const urlPolicy = parseUrlPolicy(env)
  const sandboxRaw = (env.SWITCHBOARD_SANDBOX ?? '').trim().toLowerCase()
  if (!['', 'true', 'false', 'on', 'off', '1', '0'].includes(sandboxRaw)) {
    throw new ConfigError('SWITCHBOARD_SANDBOX', `must be true or false, got "${env.SWITCHBOARD_SANDBOX}"`)
  }
  // Off in production deployments that do not want anyone to inject inbound messages by hand.
  const sandboxPage = !['false', 'off', '0'].includes(sandboxRaw)
  const jobSuperviseSeconds = parseSeconds(env, 'SWITCHBOARD_JOB_SUPERVISE_SECONDS', 60, 3600)
  const deliveryRetrySeconds = parseSeconds(env, 'SWITCHBOARD_DELIVERY_RETRY_SECONDS', 10, 3600)
  const firingBatch = env.SWITCHBOARD_FIRING_BATCH === undefined || env.SWITCHBOARD_FIRING_BATCH === '' ? undefined : parseSeconds(env, 'SWITCHBOARD_FIRING_BATCH', 200, 10_000)
  const files: FilesConfig = Object.freeze({
    dir: resolve(env.SWITCHBOARD_FILES_DIR && env.SWITCHBOARD_FILES_DIR !== '' ? env.SWITCHBOARD_FILES_DIR : join(dataDir, 'files')),
    maxBytes: parseSeconds(env, 'SWITCHBOARD_FILES_MAX_BYTES', 25 * 1024 * 1024, 5 * 1024 * 1024 * 1024),
    urlSeconds: parseSeconds(env, 'SWITCHBOARD_FILES_URL_SECONDS', 15 * 60, 7 * 24 * 3600),
    s3: parseS3(env),
  })
  const ccaiDomainRaw = (env.SWITCHBOARD_CCAI_DOMAIN ?? '').trim().toLowerCase().replace(/^\./, '')
  if (ccaiDomainRaw !== '' && !/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(ccaiDomainRaw)) {
    throw new ConfigError('SWITCHBOARD_CCAI_DOMAIN', `must be a domain name like cc.example.org, got "${env.SWITCHBOARD_CCAI_DOMAIN}"`)
  }
  const ccaiDomain = ccaiDomainRaw === '' ? undefined : ccaiDomainRaw
  const trustProxy = parseTrustProxy(env.SWITCHBOARD_TRUST_PROXY)
  // Last: it may write a generated key into the data dir, which a refused configuration must not.
  const secretKey = parseSecretKey(env.SWITCHBOARD_SECRET_KEY, dataDir)
  return Object.freeze({ port, host, databaseUrl, dataDir, secretKey, logLevel: level as LogLevel, publicUrl, publicUrlSet, urlPolicy, jobSuperviseSeconds, deliveryRetrySeconds, firingBatch, sandboxPage, files, ccaiDomain, trustProxy })
}
