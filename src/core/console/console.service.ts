import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Kysely, Transaction } from 'kysely'
import type { DB } from '../../db/schema.ts'
import { generatePassword, hashPassword, verifyPassword } from '../../lib/passwords.ts'
import { deriveKey, hashSecret, openSecret, randomSecret, SealedSecretError, sealSecret } from '../../lib/secrets.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import { AuthError, ConflictError, ForbiddenError, RateLimitedError, ValidationError, uniqueViolation } from '../errors.ts'
import { ConsoleRepository } from './console.repository.ts'
import { CONSOLE_ROLES, type AgentSignIn, type ConsoleRole, type ConsoleSession, type ConsoleUser, type CreateConsoleUserInput } from './console.types.ts'

/**
 * Failed sign-ins that lock an account (by email: 5) or an address (20: a clinic's staff often
 * share one address behind NAT) within 15 minutes.
 */
export const LOCKOUT = { failures: 5, addressFailures: 20, windowMs: 15 * 60_000 } as const
/** How long a console session lasts from sign-in. */
export const SESSION_MS = 12 * 60 * 60_000

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const MIN_PASSWORD = 12
const MAX_PASSWORD = 200
/** A hash to spend the same time on when no user has the email (no enumeration by timing). */
let dummyHash: Promise<string> | undefined

/**
 * The web console's users and sessions. Passwords are scrypt-hashed (src/lib/passwords.ts); a
 * session is a random token in an HTTP-only cookie, stored as its SHA-256; the CSRF token of a
 * session is an HMAC of its token under a key derived from the master key (nothing more to store).
 * Five failed sign-ins within 15 minutes for one email, or twenty from one address, lock that
 * email or address until the oldest of them is 15 minutes old; the count lives in the database, so every
 * API process shares it.
 */
export class ConsoleService {
  readonly #db: Kysely<DB>
  readonly #repo: ConsoleRepository
  readonly #csrfKey: Buffer
  readonly #secretKey: Buffer
  readonly #agents: AgentSignIn | undefined

  constructor(db: Kysely<DB>, secretKey: Buffer, agents?: AgentSignIn) {
    this.#db = db
    this.#repo = new ConsoleRepository(db)
    this.#csrfKey = deriveKey(secretKey, 'console-csrf-v1')
    this.#secretKey = secretKey
    this.#agents = agents
  }

  /**
   * A new console user of the tenant; `password` is the one given or a generated one (shown once).
   * `by` is the user creating it (an admin may not create owners); absent for the command line.
   * Throws ValidationError `invalid_console_user`, ConflictError `console_user_email_taken`,
   * ForbiddenError `forbidden`.
   */
  async createUser(tenantId: TenantId, input: CreateConsoleUserInput, by?: ConsoleUser, opts: { trx?: Transaction<DB> } = {}): Promise<{ user: ConsoleUser; password: string }> {
    const email = typeof input.email === 'string' ? input.email.trim() : ''
    if (!EMAIL.test(email) || email.length > 320) throw new ValidationError('invalid_console_user', 'email must be an e-mail address', { field: 'email' })
    if (!(CONSOLE_ROLES as readonly string[]).includes(input.role)) {
      throw new ValidationError('invalid_console_user', `role must be one of ${CONSOLE_ROLES.join(', ')}`, { field: 'role' })
    }
    const role = input.role as ConsoleRole
    const name = input.name?.trim() || null
    if (name !== null && name.length > 200) throw new ValidationError('invalid_console_user', 'name must be at most 200 characters', { field: 'name' })
    if (input.password !== undefined && (input.password.length < MIN_PASSWORD || input.password.length > MAX_PASSWORD)) {
      throw new ValidationError('invalid_console_user', `password must be ${MIN_PASSWORD}-${MAX_PASSWORD} characters`, { field: 'password' })
    }
    if (by) {
      if (by.tenantId !== tenantId || !canManageUsers(by.role)) throw new ForbiddenError('forbidden', 'only owners and admins create console users')
      if (role === 'owner' && by.role !== 'owner') throw new ForbiddenError('forbidden', 'only owners create owners')
    }
    const password = input.password ?? generatePassword()
    try {
      const user = await this.#repo.insertUser(opts.trx ?? this.#db, tenantId, { email, name, role, passwordHash: await hashPassword(password), createdBy: by?.id ?? input.createdBy ?? null })
      return { user, password }
    } catch (err) {
      if (uniqueViolation(err) !== undefined) throw new ConflictError('console_user_email_taken', `a console user with email ${email} exists`, { email })
      throw err
    }
  }

  /** The owner sign-in `tenant create` makes: `owner@<slug>.switchboard.local` with a generated password. */
  createOwner(tenant: { id: TenantId; cassClient: string }, opts: { trx?: Transaction<DB>; email?: string | undefined } = {}): Promise<{ user: ConsoleUser; password: string }> {
    return this.createUser(tenant.id, { email: opts.email ?? `owner@${tenant.cassClient}.switchboard.local`, role: 'owner', name: 'Owner' }, undefined, { trx: opts.trx })
  }

  /** The tenant's console users, oldest first. */
  listUsers(tenantId: TenantId): Promise<ConsoleUser[]> {
    return this.#repo.listUsers(tenantId)
  }

  /**
   * Sign in with email and password from `address`. An email that is a user of several tenants
   * signs in to the one whose password matches (`organization`, a tenant's name or id, picks one
   * when several match). When no console user matches — or `company` (an Apps API subdomain) is
   * given — the email and password are tried as a contact-center agent's (the agent API's own
   * sign-in): the session gets the role `agent` (a console user row of role `agent` is made for
   * the agent the first time, with no password of its own) and keeps the agent API token, sealed.
   * Throws RateLimitedError `rate_limited` (retryAfter seconds) while the email or the address is
   * locked, AuthError `console_sign_in_failed` for a wrong email or password (counted),
   * ValidationError `company_required` when the organisation is ambiguous, ConflictError
   * `console_user_email_taken` when the agent's email is a console user of another role.
   */
  async signIn(input: { email: string; password: string; organization?: string | undefined; company?: string | undefined; address: string }): Promise<{ token: string; csrfToken: string; session: ConsoleSession }> {
    const email = input.email.trim().toLowerCase()
    const keys = [`email:${email}`, `address:${input.address}`]
    const failures = await this.#repo.recentFailures(keys, LOCKOUT.windowMs)
    for (const [key, f] of failures) {
      if (f.count >= (key === keys[0] ? LOCKOUT.failures : LOCKOUT.addressFailures)) {
        const retryAfter = Math.max(1, Math.ceil((f.oldest.getTime() + LOCKOUT.windowMs - Date.now()) / 1000))
        throw new RateLimitedError('rate_limited', 'too many failed sign-ins; try again later', { retryAfter })
      }
    }
    const matched = []
    if (input.company === undefined) {
      const candidates = (await this.#repo.usersByEmail(email)).filter((c) => input.organization === undefined
        || c.tenantName.toLowerCase() === input.organization.trim().toLowerCase() || c.user.tenantId === input.organization.trim())
      for (const c of candidates) if (await verifyPassword(input.password, c.passwordHash)) matched.push(c)
      if (candidates.length === 0 && !this.#agents) await verifyPassword(input.password, await (dummyHash ??= hashPassword(randomSecret())))
    }
    let agentToken: string | null = null
    if (matched.length === 0 && this.#agents) {
      try {
        const signed = await this.#agents.signIn(email, input.password, input.address, input.company?.trim())
        agentToken = signed.token
        const { agent } = signed
        const name = `${agent.firstName} ${agent.lastName}`.trim() || null
        const user = await this.#repo.agentUser(agent.tenantId, agent.email, name, AGENT_PASSWORD_HASH)
        if (!user) {
          await this.#agents.signOutToken(agentToken)
          throw new ConflictError('console_user_email_taken', 'a console user of this organisation has this email: sign in with the console password', { email })
        }
        matched.push(user)
      } catch (err) {
        if (!(err instanceof AuthError)) throw err
      }
    }
    if (matched.length === 0) {
      await this.#repo.addFailures(keys, LOCKOUT.windowMs)
      throw new AuthError('console_sign_in_failed', 'wrong email or password')
    }
    if (matched.length > 1) throw new ValidationError('company_required', 'this email signs in to several organisations: name one')
    const { user, tenantName } = matched[0]!
    await this.#repo.clearFailures(keys[0]!)
    const token = randomSecret(32)
    const expiresAt = new Date(Date.now() + SESSION_MS)
    const sealed = agentToken === null ? null : sealSecret(this.#secretKey, agentTokenContext(user.tenantId), agentToken)
    const id = await this.#repo.insertSession(user.tenantId, user.id, hashSecret(token), input.address, expiresAt, sealed)
    return { token, csrfToken: this.csrfToken(token), session: { id, user, tenantName, expiresAt, agentToken } }
  }

  /** The live session of a cookie's token. Throws AuthError `invalid_session`. */
  async authenticate(token: string): Promise<ConsoleSession> {
    const found = token.length > 0 && token.length <= 200 ? await this.#repo.findSession(hashSecret(token)) : undefined
    if (!found) throw new AuthError('invalid_session', 'sign in again')
    const { agentTokenSealed, ...session } = found
    let agentToken: string | null = null
    try {
      if (agentTokenSealed !== null) agentToken = openSecret(this.#secretKey, agentTokenContext(session.user.tenantId), agentTokenSealed, 'an agent session')
    } catch (err) {
      // Sealed under another master key: the session cannot be used any more; sign in again.
      if (err instanceof SealedSecretError) throw new AuthError('invalid_session', 'sign in again')
      throw err
    }
    return { ...session, agentToken }
  }

  /** End the session of this token (nothing when there is none), and the agent API token it held. */
  async signOut(token: string): Promise<void> {
    const found = await this.#repo.findSession(hashSecret(token))
    await this.#repo.deleteSession(hashSecret(token))
    if (found?.agentTokenSealed && this.#agents) {
      let agentToken: string | undefined
      try {
        agentToken = openSecret(this.#secretKey, agentTokenContext(found.user.tenantId), found.agentTokenSealed, 'an agent session')
      } catch (err) {
        if (!(err instanceof SealedSecretError)) throw err
      }
      if (agentToken) await this.#agents.signOutToken(agentToken)
    }
  }

  /** The CSRF token of a session token: what state-changing requests send in `X-CSRF-Token`. */
  csrfToken(sessionToken: string): string {
    return createHmac('sha256', this.#csrfKey).update(sessionToken).digest('base64url')
  }

  /** Whether `given` is the CSRF token of `sessionToken` (constant time). */
  csrfMatches(sessionToken: string, given: string | undefined): boolean {
    if (typeof given !== 'string' || given.length === 0) return false
    const want = Buffer.from(this.csrfToken(sessionToken))
    const got = Buffer.from(given)
    return got.length === want.length && timingSafeEqual(got, want)
  }

}

/** The password hash of an agent's console user: none (they sign in with their agent password). */
const AGENT_PASSWORD_HASH = '!agent'
const agentTokenContext = (tenantId: TenantId) => `console_agent_token:${tenantId}`

/** Whether the role may create and list console users. */
export function canManageUsers(role: ConsoleRole): boolean {
  return role === 'owner' || role === 'admin'
}
