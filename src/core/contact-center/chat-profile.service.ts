import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Kysely, Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { ValidationError } from '../errors.ts'
import { TERMINAL_STATUSES, type ChatStatus } from './chat.machine.ts'
import { findChat, lockChat, refuseUnlessWritable } from './chat-media.service.ts'
import { recordAgentEvent } from './routing.service.ts'

/** The user-profile flags of a chat (§3.13 CustomerFlag); `verified` is the chat's `verified`. */
export interface CustomerFlags {
  readonly verified: boolean
  readonly badActor: boolean
  readonly repeatCustomer: boolean
}

/** One custom-data entry as stored and shown to the agent: a caption and any JSON value. */
export interface CustomDataEntry {
  readonly label: string | null
  readonly value: unknown
}

/** H17's body, parsed: unsigned entries, or a JWT signed with the company secret. */
export type CustomDataInput = { readonly signed: false; readonly data: unknown } | { readonly signed: true; readonly token: string }

/** The session kind of a profile request: the Apps API's `chats` or `calls` (C6–C8/CD1 share H14–H17's handlers). */
export type CommChannel = 'chat' | 'call'
/** Call statuses in which an agent handles the call (they hear of profile changes). */
const LIVE_CALL: ReadonlySet<string> = new Set(['assigned', 'connecting', 'connected', 'switching'])

/** The keys that set customer flags instead of being stored (§3.13). */
const RESERVED: Readonly<Record<string, keyof CustomerFlags>> = {
  reserved_verified_customer: 'verified', reserved_bad_actor: 'badActor', reserved_repeat_customer: 'repeatCustomer',
}
const MAX_KEYS = 200
const MAX_KEY_LENGTH = 200
/** The stored custom data of a chat, as JSON, at most this long. */
const MAX_DATA_BYTES = 64 * 1024

/**
 * The data parts of a chat the tenant's front end sends: customer flags (H14–H16) and custom data
 * (H17), signed or not. Both are shown to the handling agent (the chat's `verified`, `bad_actor`,
 * `repeat_customer` and `custom_data`, and a `chat_profile` event on the workspace stream). Writes
 * lock the chat row; refused on ended chats ("Chat is already ended") and dismissed ones (resume
 * first).
 */
export class ChatProfileService {
  readonly #db: Kysely<DB>
  readonly #companySecret: (tenantId: TenantId) => Promise<string | null>
  readonly #now: () => Date

  constructor(deps: { db: Kysely<DB>; companySecret: (tenantId: TenantId) => Promise<string | null>; now?: () => Date }) {
    this.#db = deps.db
    this.#companySecret = deps.companySecret
    this.#now = deps.now ?? (() => new Date())
  }

  /** H14: the flags of a chat; refused on an ended chat (§4.2). */
  async flags(tenantId: TenantId, chatNum: number, channel: CommChannel = 'chat'): Promise<CustomerFlags> {
    const s = await findChat(this.#db, tenantId, chatNum, channel)
    // A call's flags can be read after it ended (C6 documents only 404).
    if (channel === 'chat' && TERMINAL_STATUSES.has(s.status as ChatStatus)) throw new ValidationError('chat_ended', 'Chat is already ended', { chatId: chatNum })
    return { verified: s.verified, badActor: s.bad_actor, repeatCustomer: s.repeat_customer }
  }

  /** H15/H16: set the flags given, leave the others; the flags after. */
  async setFlags(tenantId: TenantId, chatNum: number, patch: Partial<CustomerFlags>, channel: CommChannel = 'chat'): Promise<CustomerFlags> {
    return this.#db.transaction().execute(async (trx) => {
      const s = await lockChat(trx, tenantId, chatNum, channel)
      refuseUnlessWritable(s.status, channel)
      return this.#write(trx, tenantId, s, patch, undefined, channel)
    })
  }

  /**
   * H17: verify (signed: HS256 with the tenant's company secret, `exp` and `nbf` checked) and
   * apply custom data: `reserved_*` keys set the flags, the others merge by key into the chat's
   * custom data. ValidationError `invalid_custom_data`, `invalid_signed_data`, `signed_data_expired`.
   */
  async addCustomData(tenantId: TenantId, chatNum: number, input: CustomDataInput, channel: CommChannel = 'chat'): Promise<void> {
    // The chat first: another tenant's chat is 404 whatever the body.
    refuseUnlessWritable((await findChat(this.#db, tenantId, chatNum, channel)).status, channel)
    let data: unknown
    if (input.signed) {
      const secret = await this.#companySecret(tenantId)
      const verified = secret === null ? { ok: false as const, reason: 'invalid' as const } : verifyHs256(input.token, secret, this.#now())
      if (!verified.ok) throw verified.reason === 'expired' ? new ValidationError('signed_data_expired', 'signed_data has expired') : invalidSigned()
      data = verified.claims.custom_data
      if (!isObject(data)) throw invalidSigned()
    } else {
      data = input.data
    }
    const { flags, entries } = parseEntries(data, input.signed)
    await this.#db.transaction().execute(async (trx) => {
      const s = await lockChat(trx, tenantId, chatNum, channel)
      refuseUnlessWritable(s.status, channel)
      await this.#write(trx, tenantId, s, flags, entries, channel)
    })
  }

  async #write(trx: Transaction<DB>, tenantId: TenantId, s: Awaited<ReturnType<typeof lockChat>>, patch: Partial<CustomerFlags>, entries: Record<string, CustomDataEntry> | undefined, channel: CommChannel): Promise<CustomerFlags> {
    const flags: CustomerFlags = { verified: patch.verified ?? s.verified, badActor: patch.badActor ?? s.bad_actor, repeatCustomer: patch.repeatCustomer ?? s.repeat_customer }
    const merged = entries && Object.keys(entries).length ? { ...(s.custom_data ?? {}), ...entries } : undefined
    if (merged && Buffer.byteLength(JSON.stringify(merged)) > MAX_DATA_BYTES) {
      throw new ValidationError('invalid_custom_data', `custom data is too large (at most ${MAX_DATA_BYTES} bytes in all)`)
    }
    await trx.updateTable('cc_sessions').set({
      verified: flags.verified, bad_actor: flags.badActor, repeat_customer: flags.repeatCustomer, ...(merged ? { custom_data: JSON.stringify(merged) } : {}),
    }).where('tenant_id', '=', tenantId).where('id', '=', s.id).execute()
    if (channel === 'call' && s.agent_id && LIVE_CALL.has(s.status)) {
      await recordAgentEvent(trx, tenantId, s.agent_id, 'call_profile', {
        call_id: s.num, verified_customer: flags.verified, bad_actor: flags.badActor, repeat_customer: flags.repeatCustomer, custom_data: merged ?? s.custom_data,
      })
    } else if (channel === 'chat' && s.agent_id && s.status === 'assigned') {
      await recordAgentEvent(trx, tenantId, s.agent_id, 'chat_profile', {
        chat_id: s.num, verified_customer: flags.verified, bad_actor: flags.badActor, repeat_customer: flags.repeatCustomer, custom_data: merged ?? s.custom_data,
      })
    }
    return flags
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)
const invalidSigned = () => new ValidationError('invalid_signed_data', 'Invalid signed_data')

/** The flags and stored entries of a custom-data object; texts name `data` (unsigned) or `signed_data`. */
function parseEntries(data: unknown, signed: boolean): { flags: Partial<CustomerFlags>; entries: Record<string, CustomDataEntry> } {
  const bad = (text: string) => (signed ? invalidSigned() : new ValidationError('invalid_custom_data', text))
  if (!isObject(data)) throw bad('data is invalid')
  const keys = Object.keys(data)
  if (keys.length > MAX_KEYS) throw bad(`data has more than ${MAX_KEYS} keys`)
  const flags: Partial<Record<keyof CustomerFlags, boolean>> = {}
  const entries: Record<string, CustomDataEntry> = {}
  for (const key of keys) {
    const entry = data[key]
    if (key === '' || key.length > MAX_KEY_LENGTH || key === '__proto__') throw bad('data is invalid')
    if (!isObject(entry) || (entry.label !== undefined && entry.label !== null && typeof entry.label !== 'string')) throw bad(`data.${key.slice(0, 60)} is invalid`)
    const flag = RESERVED[key]
    if (flag) {
      const value = toFlag(entry.value)
      if (value === undefined) throw signed ? invalidSigned() : new ValidationError('invalid_custom_data', `${key}.value must be a boolean`)
      flags[flag] = value
    } else {
      entries[key] = { label: typeof entry.label === 'string' ? entry.label : null, value: entry.value ?? null }
    }
  }
  return { flags, entries }
}

/** A flag value: a JSON boolean, or `"true"`/`"false"` as Rails casts them; undefined otherwise. */
export function toFlag(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v
  if (v === 'true') return true
  if (v === 'false') return false
  return undefined
}

/**
 * Verify a compact HS256 JWS with `secret` (node:crypto, constant-time): the header's `alg` must be
 * HS256, the claims a JSON object; `exp` (when present) must be after `now`, `nbf` (when present)
 * not after it, both numbers. The claims, or why not.
 */
export function verifyHs256(token: string, secret: string, now: Date): { ok: true; claims: Record<string, unknown> } | { ok: false; reason: 'invalid' | 'expired' } {
  const parts = token.split('.')
  const invalid = { ok: false as const, reason: 'invalid' as const }
  if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]*$/.test(p))) return invalid
  const [h, c, sig] = parts as [string, string, string]
  let header: unknown
  let claims: unknown
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'))
    claims = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'))
  } catch {
    return invalid
  }
  if (!isObject(header) || header.alg !== 'HS256' || !isObject(claims)) return invalid
  const expected = createHmac('sha256', secret).update(`${h}.${c}`).digest()
  const given = Buffer.from(sig, 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return invalid
  const seconds = now.getTime() / 1000
  if (claims.exp !== undefined && (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp))) return invalid
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || !Number.isFinite(claims.nbf) || claims.nbf > seconds)) return invalid
  if (typeof claims.exp === 'number' && claims.exp <= seconds) return { ok: false, reason: 'expired' }
  return { ok: true, claims }
}
