import type { Kysely } from 'kysely'
import { isMap, isSeq, parseDocument, type Document } from 'yaml'
import type { DB } from '../../db/schema.ts'
import { hashPassword } from '../../lib/passwords.ts'
import { openSecret, sealSecret } from '../../lib/secrets.ts'
import type { TenantId } from '../../lib/tenant-id.ts'
import type { SetupDocument } from './setup.schema.ts'

/**
 * What a kept setup file (`cc_setup_versions`) holds instead of clear secrets: each agent's clear
 * `password` becomes its `password_hash`, and each webhook secret is sealed under the master key
 * (bound to the tenant). Served back (GET /admin/contact-center, `contact-center show`) the sealed
 * webhook secrets are masked: `****` and the secret's last four characters; loading that masked
 * value again keeps the stored secret.
 */

export const WEBHOOK_SECRET_KEYS = ['primary_secret', 'secondary_secret'] as const
export type WebhookSecretKey = typeof WEBHOOK_SECRET_KEYS[number]

/** A served webhook secret: `****` and up to four characters. Loading it means "the stored secret that ends so". */
export function isMaskedSecret(value: string): boolean {
  return /^\*{4}[^*]{0,4}$/.test(value)
}

/** How a webhook secret is served: `****` and its last four characters. */
export function maskSecret(clear: string): string {
  return `****${clear.slice(-4)}`
}

const context = (tenantId: TenantId) => `cc_webhook_secret:${tenantId}`

export function sealWebhookSecret(key: Buffer, tenantId: TenantId, clear: string): string {
  return sealSecret(key, context(tenantId), clear)
}

/** A kept sealed secret opened; undefined when it cannot be (another master key). */
export function openWebhookSecret(key: Buffer, tenantId: TenantId, sealed: string): string | undefined {
  try {
    return openSecret(key, context(tenantId), sealed, 'a webhook secret of a setup version')
  } catch {
    return undefined
  }
}

/**
 * Rewrite a setup file's secrets: `webhook(key, value)` gives each webhook secret's new value,
 * `password(email, clear)` each agent's `password_hash` for its clear password (the `password` key
 * is then removed). YAML keeps its comments and layout; JSON is written again, indented. The
 * document is rewritten the same way. Untouched when there is nothing to rewrite.
 */
export async function rewriteSetupSecrets(
  doc: SetupDocument, source: string, format: 'yaml' | 'json',
  rewrite: { webhook?: (key: WebhookSecretKey, value: string) => string; password?: (email: string, clear: string) => Promise<string> | string },
): Promise<{ document: SetupDocument; source: string }> {
  const webhook = doc.settings?.webhook
  const touchWebhook = rewrite.webhook !== undefined && webhook !== undefined && WEBHOOK_SECRET_KEYS.some((k) => webhook[k] !== undefined)
  const touchAgents = rewrite.password !== undefined && (doc.agents ?? []).some((a) => a.password !== undefined)
  if (!touchWebhook && !touchAgents) return { document: doc, source }
  const hashes = new Map<string, string>()
  if (touchAgents) {
    for (const a of doc.agents!) if (a.password !== undefined) hashes.set(a.email.trim().toLowerCase(), await rewrite.password!(a.email.trim().toLowerCase(), a.password))
  }
  const secrets = new Map<WebhookSecretKey, string>()
  if (touchWebhook) for (const k of WEBHOOK_SECRET_KEYS) if (webhook![k] !== undefined) secrets.set(k, rewrite.webhook!(k, webhook![k]!))
  const agents = touchAgents
    ? doc.agents!.map((a) => {
      if (a.password === undefined) return a
      const { password: _password, ...rest } = a
      return { ...rest, password_hash: hashes.get(a.email.trim().toLowerCase())! }
    })
    : doc.agents
  const settings = touchWebhook ? { ...doc.settings, webhook: { ...webhook!, ...Object.fromEntries(secrets) } } : doc.settings
  const document: SetupDocument = { ...doc, ...(settings ? { settings } : {}), ...(agents ? { agents } : {}) }
  if (format === 'json') {
    const raw = JSON.parse(source) as Record<string, unknown>
    return { document, source: JSON.stringify({ ...raw, ...(settings ? { settings } : {}), ...(touchAgents ? { agents } : {}) }, null, 2) + '\n' }
  }
  const yaml = parseDocument(source, { uniqueKeys: true })
  if (touchAgents) rewriteYamlAgents(yaml, hashes)
  for (const [k, v] of secrets) if (yaml.hasIn(['settings', 'webhook', k])) yaml.setIn(['settings', 'webhook', k], v)
  // No folding: a long sealed value or hash does not reflow the file's flow collections.
  return { document, source: yaml.toString({ lineWidth: 0 }) }
}

function rewriteYamlAgents(yaml: Document, hashes: ReadonlyMap<string, string>): void {
  const seq = yaml.get('agents')
  if (!isSeq(seq)) return
  for (const item of seq.items) {
    if (!isMap(item) || !item.has('password')) continue
    const email = String(item.get('email')).trim().toLowerCase()
    item.delete('password')
    item.set('password_hash', hashes.get(email)!)
  }
}

/**
 * The one-time rewrite of setup versions kept before migration 0025 (or by an older process during
 * an upgrade): clear agent passwords become their hashes and clear webhook secrets are sealed. SQL
 * cannot do either (the master key, scrypt), so this runs after the migrations, in `switchboard
 * migrate` and at every start. Idempotent: only rows still `redacted = false` are read, each is
 * locked, rewritten and marked in one transaction. Resolves with the number of rows rewritten.
 */
export async function redactStoredSetupVersions(db: Kysely<DB>, key: Buffer): Promise<number> {
  let done = 0
  for (;;) {
    const batch = await db.selectFrom('cc_setup_versions').select(['tenant_id', 'version']).where('redacted', '=', false).orderBy('tenant_id').orderBy('version').limit(50).execute()
    if (batch.length === 0) return done
    for (const b of batch) {
      await db.transaction().execute(async (trx) => {
        const row = await trx.selectFrom('cc_setup_versions').select(['document', 'source', 'format', 'redacted'])
          .where('tenant_id', '=', b.tenant_id).where('version', '=', b.version).forUpdate().executeTakeFirst()
        if (!row || row.redacted) return
        // Hashing one password per agent is slow (scrypt) but runs once per kept version.
        const kept = await rewriteSetupSecrets(row.document as unknown as SetupDocument, row.source, row.format, {
          webhook: (_k, clear) => sealWebhookSecret(key, b.tenant_id, clear),
          password: (_email, clear) => hashPassword(clear),
        })
        await trx.updateTable('cc_setup_versions').set({ document: JSON.stringify(kept.document), source: kept.source, redacted: true })
          .where('tenant_id', '=', b.tenant_id).where('version', '=', b.version).execute()
        done++
      })
    }
  }
}
