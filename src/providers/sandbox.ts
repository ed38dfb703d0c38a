import { randomUUID } from 'node:crypto'
import { ProviderError, type Channel, type ChannelProvider, type OutboundMessage, type SendResult } from './types.ts'

/**
 * Recipients the sandbox refuses, so failure paths can be tried without a vendor (like Twilio's
 * magic test numbers): a permanent rejection and a temporary outage.
 */
export const SANDBOX_FAILURES = {
  /** Rejected as an invalid recipient: not retried. */
  permanent: ['+15005550001', 'reject@sandbox.invalid'],
  /** Answered as unavailable: retried with backoff, then dead-lettered. */
  temporary: ['+15005550002', 'unavailable@sandbox.invalid'],
} as const

/** One message the sandbox accepted, as it would have gone out. */
export interface SandboxRecord {
  readonly providerMessageId: string
  readonly message: OutboundMessage
  readonly at: Date
}

export interface SandboxOptions {
  /** Called with every accepted message (the outbox row already records it; this is for tools and tests). */
  onSend?: (record: SandboxRecord) => void
}

/**
 * The `sandbox` vendor, available for every channel and the default: it sends nothing and answers
 * as a vendor would, so the outbox shows what would have gone out (`queued` → `sent`) and the
 * sandbox page can answer as the person. One vendor spans all channels here, so it lives in one
 * file instead of `providers/<channel>/sandbox.ts`.
 */
export function createSandboxProvider<C extends Channel>(channel: C, options: SandboxOptions = {}): ChannelProvider<C> {
  return {
    id: 'sandbox',
    channel,
    async send(message: OutboundMessage & { readonly channel: C }): Promise<SendResult> {
      const to = message.to.toLowerCase()
      if ((SANDBOX_FAILURES.permanent as readonly string[]).includes(to)) {
        throw new ProviderError('invalid_recipient', `the sandbox rejects ${message.to} as an invalid recipient`, { retryable: false, status: 400 })
      }
      if ((SANDBOX_FAILURES.temporary as readonly string[]).includes(to)) {
        throw new ProviderError('unavailable', `the sandbox is unavailable for ${message.to}`, { retryable: true, status: 503 })
      }
      const providerMessageId = `sandbox-${randomUUID()}`
      options.onSend?.({ providerMessageId, message, at: new Date() })
      return { providerMessageId, status: 'sent' }
    },
  }
}
