import { defaultHelpText, type Suppression } from '../../core/suppression/index.ts'
import type { ProviderSetting } from '../../core/tenants/index.ts'

/** A channel's provider on the admin API (options already masked by core). */
export function presentProvider(p: ProviderSetting) {
  return { channel: p.channel, vendor: p.vendor, configured: p.configured, options: { ...p.options }, updated_at: p.updatedAt ? p.updatedAt.toISOString() : null }
}

/** A suppression list entry on the admin API. */
export function presentSuppression(s: Suppression) {
  return { id: s.id, scope: s.scope, address: s.address, reason: s.reason, source: s.source, created_at: s.createdAt.toISOString(), expires_at: s.expiresAt?.toISOString() ?? null }
}

/** The tenant's messaging settings on the admin API, with the HELP answer used while none is set. */
export function presentSettings(tenantName: string, s: { smsHelpText: string | null; smsConsentRequired?: boolean | undefined }) {
  return { data: { sms_help_text: s.smsHelpText, sms_help_text_default: defaultHelpText(tenantName), sms_consent_required: s.smsConsentRequired === true } }
}
