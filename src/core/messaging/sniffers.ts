import { sql, type Kysely } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.ts'
import type { DirectoryViewer } from './directory.service.ts'
import { UUID } from '../../lib/uuid.ts'

/** The longest a sniffer may run: a debugging aid, not a standing wiretap (README, sniffers). */
export const MAX_SNIFFER_SECONDS = 7 * 24 * 3600
/** How much of a request or response body a log keeps. */
export const SNIFFED_BODY_LIMIT = 16 * 1024

/** A sniffer (#89, #90): capture of one user's API traffic until `validUntil`. */
export interface Sniffer {
  readonly id: string
  readonly userId: string
  readonly validUntil: Date
  readonly createdAt: Date
}

/** One captured request (#91, `sniffer-logs`), secrets already redacted. */
export interface SnifferLog {
  readonly id: string
  readonly method: string
  readonly path: string
  readonly queryString: string
  readonly contentType: string
  readonly body: string
  readonly response: string
  readonly statusCode: number
  readonly message: string
  readonly userAgent: string
  readonly requestId: string
  readonly traceId: string
  readonly createdAt: Date
}

/** A request to capture, as the surface saw it (bodies as text; redacted here). */
export type SniffedRequest = Omit<SnifferLog, 'id' | 'createdAt'> & {
  /**
   * When the request arrived (epoch milliseconds, fractions kept): the log's time, so that logs
   * list in the order the requests came even though each is written after its answer went.
   */
  readonly receivedAt?: number
}

/** Object keys whose values are secrets wherever they appear in a captured body. */
const SECRET_KEY = /pass|secret|token|signature|api[-_]?key|authorization|cookie|credential/i
/** Strings that are credentials whatever their key: user tokens, bearer headers. */
const SECRET_VALUE = /\bsbu_[\w-]+|\bBearer\s+\S+/g

/** A captured body with every secret replaced by `[redacted]`, cut to `SNIFFED_BODY_LIMIT`. */
export function redactBody(text: string): string {
  let out = text
  try {
    const scrub = (v: unknown): unknown => Array.isArray(v) ? v.map(scrub)
      : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, SECRET_KEY.test(k) ? '[redacted]' : scrub(x)]))
        : v
    out = JSON.stringify(scrub(JSON.parse(text)))
  } catch {
    // not JSON: only the value patterns below apply
  }
  out = out.replace(SECRET_VALUE, '[redacted]')
  return out.length > SNIFFED_BODY_LIMIT ? `${out.slice(0, SNIFFED_BODY_LIMIT)}…[truncated]` : out
}

/** A query string with the values of secret-looking parameters redacted. */
export function redactQuery(query: string): string {
  return query.split('&').filter(Boolean).map((pair) => {
    const [k = '', ...rest] = pair.split('=')
    return SECRET_KEY.test(decodeURIComponent(k)) ? `${k}=[redacted]` : [k, ...rest].join('=')
  }).join('&').replace(SECRET_VALUE, '[redacted]')
}

const notFound = (id: string) => new NotFoundError('resource_not_found', `No sniffers with id ${id}`, { type: 'sniffers', id })

/**
 * Sniffers (`spec/courier.md` #89–#91): an organisation turns on capture of one directory user's
 * requests until `valid-until`; every request that user makes with their user token meanwhile is
 * logged (method, path, query, bodies with secrets redacted, status) and read back page by page.
 */
export class SniffersService {
  readonly #db: Kysely<DB>

  constructor(db: Kysely<DB>) {
    this.#db = db
  }

  async create(tenantId: TenantId, viewer: DirectoryViewer, input: { userId: string; validUntil: string }, now = new Date()): Promise<Sniffer> {
    if (viewer.kind !== 'organization') throw new ForbiddenError('forbidden', 'only the organisation API key may start a sniffer')
    const until = new Date(input.validUntil)
    if (!/^\d{4}-\d{2}-\d{2}T/.test(input.validUntil) || Number.isNaN(until.getTime())) {
      throw new ValidationError('invalid_sniffer', 'valid-until must be an ISO 8601 date-time', { pointer: '/data/attributes/valid-until' })
    }
    if (until <= now) throw new ValidationError('invalid_sniffer', 'valid-until must be in the future', { pointer: '/data/attributes/valid-until' })
    if (until.getTime() - now.getTime() > MAX_SNIFFER_SECONDS * 1000) {
      throw new ValidationError('invalid_sniffer', 'valid-until must be within 7 days', { pointer: '/data/attributes/valid-until' })
    }
    const user = UUID.test(input.userId)
      ? await this.#db.selectFrom('msg_users').select('id').where('tenant_id', '=', tenantId).where('id', '=', input.userId).executeTakeFirst()
      : undefined
    if (!user) throw new NotFoundError('resource_not_found', `No users with id ${input.userId}`, { type: 'users', id: input.userId, pointer: '/data/attributes/user-id' })
    const row = await this.#db.insertInto('msg_sniffers').values({ tenant_id: tenantId, user_id: user.id, valid_until: until })
      .returning(['id', 'user_id', 'valid_until', 'created_at']).executeTakeFirstOrThrow()
    return toSniffer(row)
  }

  async find(tenantId: TenantId, id: string): Promise<Sniffer> {
    if (!UUID.test(id)) throw notFound(id)
    const row = await this.#db.selectFrom('msg_sniffers').select(['id', 'user_id', 'valid_until', 'created_at']).where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
    if (!row) throw notFound(id)
    return toSniffer(row)
  }

  /** The captured requests of a sniffer, oldest first. */
  async logs(tenantId: TenantId, id: string, page: { offset: number; limit: number }): Promise<{ items: SnifferLog[]; total: number }> {
    await this.find(tenantId, id)
    const base = this.#db.selectFrom('msg_sniffer_logs').where('tenant_id', '=', tenantId).where('sniffer_id', '=', id)
    const [rows, count] = await Promise.all([
      base.selectAll().orderBy('created_at').orderBy('id').offset(page.offset).limit(page.limit).execute(),
      base.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    ])
    return {
      total: Number(count.n),
      items: rows.map((r) => ({
        id: r.id, method: r.method, path: r.path, queryString: r.query_string, contentType: r.content_type, body: r.body, response: r.response,
        statusCode: r.status_code, message: r.message, userAgent: r.user_agent, requestId: r.request_id, traceId: r.trace_id, createdAt: r.created_at,
      })),
    }
  }

  /** Log `request` for every sniffer of `userId` still running (none: nothing written). */
  async capture(tenantId: TenantId, userId: string, request: SniffedRequest, now = new Date()): Promise<number> {
    const at = request.receivedAt ?? now.getTime()
    const active = await this.#db.selectFrom('msg_sniffers').select('id')
      .where('tenant_id', '=', tenantId).where('user_id', '=', userId).where('valid_until', '>', new Date(at)).execute()
    if (active.length === 0) return 0
    const row = {
      tenant_id: tenantId, method: request.method, path: request.path, query_string: redactQuery(request.queryString), content_type: request.contentType,
      body: request.body ? redactBody(request.body) : '', response: request.response ? redactBody(request.response) : '', status_code: request.statusCode,
      message: request.message, user_agent: request.userAgent, request_id: request.requestId, trace_id: request.traceId,
      // Microseconds kept (a Date has milliseconds only): requests a millisecond apart keep their order.
      created_at: sql<Date>`to_timestamp(${at / 1000}::float8)`,
    }
    await this.#db.insertInto('msg_sniffer_logs').values(active.map((s) => ({ ...row, sniffer_id: s.id }))).execute()
    return active.length
  }
}

function toSniffer(r: { id: string; user_id: string; valid_until: Date; created_at: Date }): Sniffer {
  return { id: r.id, userId: r.user_id, validUntil: r.valid_until, createdAt: r.created_at }
}
