import type { Kysely, Transaction } from 'kysely'
import type { Notifier } from '../../db/notifier.ts'
import type { DB } from '../../db/schema.ts'
import { ValidationError } from '../errors.ts'
import type { Tenant } from '../tenants/index.ts'
import { BUILTIN_THREADS, BUILTIN_THREAD_NAMES } from './builtin-threads.ts'
import { ThreadsRepository } from './threads.repository.ts'
import { validateThreadsDocument, type Thread, type ThreadsDocument } from './threads.schema.ts'
import { asTenantId, type TenantId } from '../../lib/tenant-id.ts'
import { parseSetupText } from '../../lib/schema-problems.ts'

/** A tenant's content at one version, with the built-in threads. */
export interface ThreadSet {
  /** 0 when the tenant never loaded content (only the built-in threads exist). */
  readonly version: number
  readonly document: ThreadsDocument
  /** The thread of a name, built-ins included. */
  thread(name: string): Thread | undefined
  /** Every thread name, the tenant's first, then the built-ins. */
  readonly names: readonly string[]
}

/** The answer of a load. */
export interface LoadedThreads {
  readonly version: number
  readonly threads: readonly string[]
}

/** Largest thread file accepted. */
export const MAX_THREADS_SOURCE = 1024 * 1024
const EMPTY: ThreadsDocument = { threads: {} }
const CACHE_MAX = 500
/** The channel `migrations/0010` announces new thread versions on (payload: the tenant id). */
const THREADS_CHANGED = 'switchboard_threads_changed'

function threadSet(version: number, document: ThreadsDocument): ThreadSet {
  return {
    version, document,
    thread: (name) => (Object.hasOwn(document.threads, name) ? document.threads[name] : Object.hasOwn(BUILTIN_THREADS, name) ? BUILTIN_THREADS[name] : undefined),
    names: [...Object.keys(document.threads), ...BUILTIN_THREAD_NAMES],
  }
}

/**
 * Parse a thread file (YAML, or JSON with `format: 'json'`) and validate it. Throws ValidationError
 * `invalid_threads` with `errors`, each `path: problem`.
 */
export function parseThreads(source: string, format?: 'yaml' | 'json'): ThreadsDocument {
  const fail = (errors: string[]): never => {
    throw new ValidationError('invalid_threads', errors[0]!, { errors })
  }
  const parsed = parseSetupText(source, format, 'the thread file', MAX_THREADS_SOURCE)
  if (!parsed.ok) fail([parsed.problem])
  const result = validateThreadsDocument((parsed as { value: unknown }).value, BUILTIN_THREAD_NAMES)
  if (!result.ok) fail(result.errors)
  return (result as { document: ThreadsDocument }).document
}

/**
 * The tenant's bot threads: loading versioned content from YAML or JSON, and reading it back.
 * Versions never change once written, so they are cached in the process.
 */
export class ThreadsService {
  readonly #db: Kysely<DB>
  readonly #repo: ThreadsRepository
  readonly #versions = new Map<string, ThreadSet>()
  readonly #currentVersions = new Map<string, number>()
  #events: Notifier | undefined
  /** Bumped by every announcement: a read that raced one is not kept. */
  #generation = 0

  /**
   * With `events`, each tenant's current version number is kept in this process and dropped when
   * the database announces a new version (any process, or SQL), so an event costs no query for it.
   * While notifications may be missed (`events.healthy` false) the database is asked every time.
   */
  constructor(db: Kysely<DB>, events?: Notifier) {
    this.#db = db
    this.#repo = new ThreadsRepository(db)
    if (events) {
      this.#events = events
      events.onReset(() => this.#forget())
      events.listen(THREADS_CHANGED, (tenantId) => this.#forget(asTenantId(tenantId))).catch(() => this.#forget())
    }
  }

  #forget(tenantId?: TenantId): void {
    this.#generation++
    if (tenantId === undefined) this.#currentVersions.clear()
    else this.#currentVersions.delete(tenantId)
  }

  /** Throws ValidationError `thread_not_found` unless the tenant has (or is built with) a thread of this name. */
  async requireThread(tenant: Pick<Tenant, 'id'>, name: string): Promise<void> {
    if (BUILTIN_THREAD_NAMES.includes(name)) return
    if (!(await this.#repo.exists(tenant.id, name))) throw new ValidationError('thread_not_found', `no thread ${name}`, { threadName: name })
  }

  /**
   * Parse, validate and store a thread file as the tenant's new current version. `format` is
   * detected when not given (a JSON document starts with `{`). Throws ValidationError
   * `invalid_threads` with `errors` (each `path: problem`, e.g.
   * `threads.good_thread.steps[2].choices[0].next: unknown thread "wrap_upp"`); nothing is stored then.
   */
  async load(tenant: Pick<Tenant, 'id'>, source: string, format?: 'yaml' | 'json'): Promise<LoadedThreads> {
    const document = this.parse(source, format)
    const fmt = format ?? (source.trimStart().startsWith('{') ? 'json' : 'yaml')
    const version = await this.#db.transaction().execute((trx) => this.#repo.insertVersion(trx, tenant.id, document, source, fmt))
    // This process sees its own load at once, without waiting for the announcement.
    this.#forget(tenant.id)
    this.#remember(tenant.id, threadSet(version, document))
    return { version, threads: Object.keys(document.threads) }
  }

  /** Parse and validate without storing. Throws ValidationError `invalid_threads`. */
  parse(source: string, format?: 'yaml' | 'json'): ThreadsDocument {
    return parseThreads(source, format)
  }

  /**
   * The tenant's current content (version 0, built-ins only, when nothing was loaded). Inside a
   * transaction pass it as `db`: on the embedded store nothing in a transaction may use another
   * connection.
   */
  async current(tenant: Pick<Tenant, 'id'>, db?: Kysely<DB> | Transaction<DB>): Promise<ThreadSet> {
    const trusted = this.#events?.healthy === true
    const known = trusted ? this.#currentVersions.get(tenant.id) : undefined
    if (known !== undefined) return this.version(tenant, known, db)
    // A version read while an announcement arrives may already be stale: kept only when none came.
    const generation = this.#generation
    const version = await this.#repo.currentVersion(db ?? this.#db, tenant.id)
    if (trusted && generation === this.#generation) {
      if (this.#currentVersions.size >= CACHE_MAX) this.#currentVersions.delete(this.#currentVersions.keys().next().value!)
      this.#currentVersions.set(tenant.id, version)
    }
    return this.version(tenant, version, db)
  }

  /** The tenant's content at a version (a conversation's); `db` as for `current`. */
  async version(tenant: Pick<Tenant, 'id'>, version: number, db?: Kysely<DB> | Transaction<DB>): Promise<ThreadSet> {
    if (version === 0) return threadSet(0, EMPTY)
    const hit = this.#versions.get(`${tenant.id}:${version}`)
    if (hit) return hit
    const row = await this.#repo.findVersion(tenant.id, version, db)
    const set = threadSet(version, row?.document ?? EMPTY)
    if (row) this.#remember(tenant.id, set)
    return set
  }

  /** The file of the current version as it was loaded; undefined when nothing was loaded. */
  async currentSource(tenant: Pick<Tenant, 'id'>): Promise<{ version: number; source: string; format: 'yaml' | 'json'; threads: string[]; loadedAt: Date } | undefined> {
    const version = await this.#repo.currentVersion(this.#db, tenant.id)
    const row = version > 0 ? await this.#repo.findVersion(tenant.id, version) : undefined
    // The stored document's keys are in jsonb order; the file has the author's order.
    return row ? { version, source: row.source, format: row.format, threads: Object.keys(parseThreads(row.source, row.format).threads), loadedAt: row.createdAt } : undefined
  }

  #remember(tenantId: TenantId, set: ThreadSet) {
    if (this.#versions.size >= CACHE_MAX) this.#versions.delete(this.#versions.keys().next().value!)
    this.#versions.set(`${tenantId}:${set.version}`, set)
  }
}
