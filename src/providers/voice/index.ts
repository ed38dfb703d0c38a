import { ProviderError } from '../types.ts'
import type { ProviderOptions } from '../http.ts'
import type { ChannelSettings } from '../registry.ts'
import { createSandboxCallControl, type SandboxVoiceEmitter } from './sandbox.ts'
import { createTwilioCallControl } from './twilio.ts'
import type { CallControlProvider } from './types.ts'

export type { CallControlProvider, CallLegEvent, CallLegRequest, CallLegStatus, PlacedLeg, AnswerDocument, AnswerStep, DeflectionChoice } from './types.ts'
export { DEFLECTION_CHOICE_DIGITS } from './types.ts'
export { SANDBOX_VOICE_NUMBERS, SANDBOX_VOICE_DEFAULTS, sandboxVoiceOptions, sandboxLegId, sandboxVoicemailUrl, createSandboxCallControl } from './sandbox.ts'
export type { SandboxVoiceEmitter, SandboxVoiceOptions } from './sandbox.ts'

/** A tenant's `voice` channel settings: the vendor (`sandbox` when absent), its options, and an optional `fallback` of the same shape. */
export interface VoiceSettings {
  readonly provider?: string
  readonly fallback?: unknown
  readonly [option: string]: unknown
}

/** What building a provider needs besides the settings. */
export interface VoiceProviderDeps {
  /** Where the sandbox's simulated callbacks go (durably: one job per event). */
  readonly sandboxEmit: SandboxVoiceEmitter
  /** The outbound URL policy vendors' HTTP clients follow. */
  readonly http?: ProviderOptions | undefined
}

/**
 * The CallControlProvider of a tenant's voice settings; `attempt` 1 is the `fallback` settings'
 * (what `switching` dials with), undefined when none is configured.
 */
export function createCallControl(settings: VoiceSettings | undefined, deps: VoiceProviderDeps, attempt: 0 | 1 = 0): CallControlProvider | undefined {
  const chosen = attempt === 0 ? settings : fallbackOf(settings)
  if (attempt === 1 && !chosen) return undefined
  const vendor = chosen?.provider ?? 'sandbox'
  switch (vendor) {
    case 'sandbox':
      return createSandboxCallControl(chosen, deps.sandboxEmit)
    case 'twilio':
      return createTwilioCallControl(chosen as ChannelSettings, deps.http)
    default:
      throw new ProviderError('unknown_provider', `no voice provider "${vendor}"`, { retryable: false })
  }
}

/** The fallback provider's settings, when the tenant configured one. */
export function fallbackOf(settings: VoiceSettings | undefined): VoiceSettings | undefined {
  const f = settings?.fallback
  return f !== null && typeof f === 'object' && !Array.isArray(f) ? (f as VoiceSettings) : undefined
}
