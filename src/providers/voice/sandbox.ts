import { ProviderError, type RawWebhook } from '../types.ts'
import { DEFLECTION_CHOICE_DIGITS, type AnswerDocument, type CallControlProvider, type CallLegEvent, type CallLegRequest, type CallLegStatus, type PlacedLeg } from './types.ts'

/**
 * End-user numbers the sandbox answers in a fixed way, whatever the tenant's settings (in the
 * style of the messaging sandbox's `SANDBOX_FAILURES`). Any other number rings and answers after
 * `answer_after_ms` (or waits for the sandbox page with `answer: manual`).
 */
export const SANDBOX_VOICE_NUMBERS = {
  /** Rings, then busy. */
  busy: '+15005550010',
  /** Rings until `no_answer_after_ms`, then no answer. */
  noAnswer: '+15005550011',
  /** Refused when dialled: an invalid number (ProviderError `invalid_number`, not retryable). */
  invalid: '+15005550012',
  /** The provider fails when dialled (ProviderError `unavailable`, retryable): the call switches to the fallback provider when one is set. */
  providerFailure: '+15005550013',
  /** Answers, then hangs up after `hang_up_after_ms`. */
  hangsUp: '+15005550014',
} as const

/** The sandbox's options, from the tenant's `voice` channel settings (all optional). */
export interface SandboxVoiceOptions {
  /** `auto` (default): answers after `answerAfterMs`; `manual`: rings until picked up or declined on the sandbox page. */
  readonly answer: 'auto' | 'manual'
  readonly answerAfterMs: number
  readonly noAnswerAfterMs: number
  readonly hangUpAfterMs: number
  /** How long an agent's leg (`client:…`) takes to answer (default 0: at once). */
  readonly agentAnswerAfterMs: number
  /** Every dial fails as a provider failure (to try `switching` to a fallback). */
  readonly failAll: boolean
  /** The digit the phone presses when a deflected call asks it to choose (`auto`): 1 voicemail (default), 2 schedule a call. */
  readonly deflectionDigit: '1' | '2'
}

export const SANDBOX_VOICE_DEFAULTS: SandboxVoiceOptions = { answer: 'auto', answerAfterMs: 2000, noAnswerAfterMs: 5000, hangUpAfterMs: 3000, agentAnswerAfterMs: 0, failAll: false, deflectionDigit: '1' }

/** Read the sandbox's options from channel settings; a missing or unusable value is its default. */
export function sandboxVoiceOptions(settings: Readonly<Record<string, unknown>> | undefined): SandboxVoiceOptions {
  const ms = (key: string, fallback: number): number => {
    const v = settings?.[key]
    return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 600_000 ? v : fallback
  }
  return {
    answer: settings?.answer === 'manual' ? 'manual' : 'auto',
    answerAfterMs: ms('answer_after_ms', SANDBOX_VOICE_DEFAULTS.answerAfterMs),
    noAnswerAfterMs: ms('no_answer_after_ms', SANDBOX_VOICE_DEFAULTS.noAnswerAfterMs),
    hangUpAfterMs: ms('hang_up_after_ms', SANDBOX_VOICE_DEFAULTS.hangUpAfterMs),
    agentAnswerAfterMs: ms('agent_answer_after_ms', SANDBOX_VOICE_DEFAULTS.agentAnswerAfterMs),
    failAll: settings?.fail_all === true,
    deflectionDigit: settings?.deflection_digit === '2' || settings?.deflection_digit === 2 ? '2' : '1',
  }
}

/**
 * Where the sandbox's simulated callbacks go: `event` is to reach the call after `delayMs`, durably
 * (the wiring enqueues one job per event, keyed by the leg and status, so a restart or several
 * worker processes neither lose nor repeat it).
 */
export type SandboxVoiceEmitter = (event: CallLegEvent, delayMs: number) => Promise<void>

const PREFIX = 'sandbox-'

/** The (never served) URL of a voicemail the sandbox phone left on a leg: `.invalid` is a reserved domain. */
export function sandboxVoicemailUrl(legId: string): string {
  return `https://voicemail.sandbox.invalid/${legId}.wav`
}

/** The leg id inside a sandbox provider call id (`sandbox-<leg id>`). */
export function sandboxLegId(providerCallId: string): string | undefined {
  return providerCallId.startsWith(PREFIX) ? providerCallId.slice(PREFIX.length) : undefined
}

/**
 * The sandbox voice provider (`voip_provider_sandbox`): simulates the phone at the other end of
 * every leg. Agent legs (`client:…`) answer at once, or after `agent_answer_after_ms` (agents act through the agent API); end-user
 * legs ring and then answer, are busy, do not answer or hang up, as the magic numbers and the
 * tenant's options say. Nothing leaves the process but the events it emits.
 */
export function createSandboxCallControl(settings: Readonly<Record<string, unknown>> | undefined, emit: SandboxVoiceEmitter): CallControlProvider {
  const o = sandboxVoiceOptions(settings)
  const event = (leg: CallLegRequest | string, status: CallLegStatus, extra: Partial<CallLegEvent> = {}): CallLegEvent => {
    const legId = typeof leg === 'string' ? sandboxLegId(leg) : leg.legId
    return { kind: 'call_leg', providerCallId: typeof leg === 'string' ? leg : PREFIX + leg.legId, legId, status, providerStatus: status, ...extra }
  }
  return {
    id: 'sandbox',
    voipProvider: 'voip_provider_sandbox',
    async placeLeg(request: CallLegRequest): Promise<PlacedLeg> {
      const to = request.to
      if (o.failAll || to === SANDBOX_VOICE_NUMBERS.providerFailure) {
        throw new ProviderError('unavailable', 'the sandbox voice provider failed to place the call', { retryable: true, status: 503 })
      }
      if (to === SANDBOX_VOICE_NUMBERS.invalid) throw new ProviderError('invalid_number', `the sandbox rejects ${to} as an invalid number`, { retryable: false, status: 400 })
      const providerCallId = PREFIX + request.legId
      await emit(event(request, 'ringing'), 0)
      if (request.deflection && request.deflection.length > 0) {
        // A deflected call asks the person to choose: the phone answers and presses its digit (auto);
        // having chosen voicemail it speaks for `hang_up_after_ms` and hangs up. `manual`: the sandbox page presses.
        if (o.answer === 'auto') {
          const digit = request.deflection.some((c) => DEFLECTION_CHOICE_DIGITS[c] === o.deflectionDigit) ? o.deflectionDigit : DEFLECTION_CHOICE_DIGITS[request.deflection[0]!]
          await emit(event(request, 'answered'), o.answerAfterMs)
          await emit(event(request, 'answered', { digits: digit }), o.answerAfterMs + 100)
          if (digit === DEFLECTION_CHOICE_DIGITS.voicemail) {
            await emit(event(request, 'completed', { recordingUrl: sandboxVoicemailUrl(request.legId), durationSeconds: Math.round(o.hangUpAfterMs / 1000) }), o.answerAfterMs + 100 + o.hangUpAfterMs)
          }
        }
      } else if (request.voicemail) {
        // The person answers, speaks for `hang_up_after_ms` and hangs up: the recording is ready (auto);
        // `manual`: the sandbox page picks up and leaves the voicemail.
        if (o.answer === 'auto') {
          await emit(event(request, 'answered'), o.answerAfterMs)
          await emit(event(request, 'completed', { recordingUrl: sandboxVoicemailUrl(request.legId), durationSeconds: Math.round(o.hangUpAfterMs / 1000) }), o.answerAfterMs + o.hangUpAfterMs)
        }
      } else if (to.startsWith('client:')) {
        await emit(event(request, 'answered'), o.agentAnswerAfterMs)
      } else if (to === SANDBOX_VOICE_NUMBERS.busy) {
        await emit(event(request, 'busy'), Math.min(500, o.noAnswerAfterMs))
      } else if (to === SANDBOX_VOICE_NUMBERS.noAnswer) {
        await emit(event(request, 'no_answer'), Math.min(o.noAnswerAfterMs, request.ringTimeoutSeconds * 1000))
      } else if (to === SANDBOX_VOICE_NUMBERS.hangsUp) {
        await emit(event(request, 'answered'), o.answerAfterMs)
        await emit(event(request, 'completed', { durationSeconds: Math.round(o.hangUpAfterMs / 1000) }), o.answerAfterMs + o.hangUpAfterMs)
      } else if (o.answer === 'auto') {
        await emit(event(request, 'answered'), o.answerAfterMs)
      }
      // `manual`: the leg rings until the sandbox page picks it up or declines it.
      return { providerCallId }
    },
    async hold(): Promise<void> {
      // The simulated phone hears the hold music; nothing to report.
    },
    async hangUp(providerCallId: string): Promise<void> {
      // The vendor reports the end of a leg it was told to end, as Twilio's `completed` callback does.
      await emit(event(providerCallId, 'completed'), 0)
    },
    answerDocument(request): AnswerDocument {
      return { contentType: 'application/json', body: JSON.stringify({ conference: request.callId, leg: request.legId, record: request.record }) }
    },
    // The sandbox's callbacks come from this process (its jobs and the tenant-authenticated sandbox page), never from outside.
    verifySignature: (): boolean => true,
    parseCallWebhook(req: RawWebhook): CallLegEvent[] {
      const body = req.body as { provider_call_id?: unknown; status?: unknown } | null
      const statuses: readonly string[] = ['initiated', 'ringing', 'answered', 'busy', 'no_answer', 'failed', 'canceled', 'completed']
      if (!body || typeof body.provider_call_id !== 'string' || typeof body.status !== 'string' || !statuses.includes(body.status)) {
        throw new ProviderError('invalid_webhook', 'not a sandbox call callback', { retryable: false })
      }
      return [event(body.provider_call_id, body.status as CallLegStatus)]
    },
  }
}
