/**
 * Call control: the telephony side of a contact-center call, one interface for every voice vendor
 * (the sandbox, Twilio Programmable Voice). A call is a conference named by our call id; each
 * party (the end user, an agent) is a *leg* the provider dials into it. Providers know nothing of
 * core: they place and control legs, serve the instructions a leg runs once answered, and read
 * their vendor's status callbacks into `CallLegEvent`s, which core's webhook pipeline applies to
 * the call (`src/core/calls`).
 */
import type { RawWebhook } from '../types.ts'

/** One leg to dial into a call's conference. */
export interface CallLegRequest {
  /** Our id of the leg, the same on every attempt (idempotency; carried back in callbacks). */
  readonly legId: string
  /** Our call id: the conference both legs join. */
  readonly callId: string
  /** E.164 number, or `client:<identity>` for a softphone. */
  readonly to: string
  /** Caller id shown to the callee (E.164). */
  readonly from: string
  /** Where the vendor posts this leg's status callbacks (our webhook, naming tenant and leg). */
  readonly statusCallbackUrl: string
  /** Where the vendor fetches the leg's instructions when it answers (Twilio: TwiML); the sandbox ignores it. */
  readonly answerUrl: string
  /** Seconds to ring before the leg ends as `no_answer`. */
  readonly ringTimeoutSeconds: number
  /** Record the conference (only when the end user granted permission, or the queue records without asking). */
  readonly record: boolean
  /** A voicemail leg: the person leaves a message; the recording's URL comes with the leg's `completed` event. */
  readonly voicemail?: boolean | undefined
  /** A deflection leg: the person chooses by a digit (1 voicemail, 2 schedule a call) among these; the digit comes as an event with `digits`. */
  readonly deflection?: readonly DeflectionChoice[] | undefined
}

/** A deflected caller's choices on the phone, and the digit of each. */
export type DeflectionChoice = 'voicemail' | 'schedule_call'
export const DEFLECTION_CHOICE_DIGITS: Readonly<Record<DeflectionChoice, string>> = { voicemail: '1', schedule_call: '2' }

/** What an answered leg runs (Twilio: the TwiML served at the answer URL, then at the input URL). */
export type AnswerStep =
  | { readonly kind: 'conference' }
  /** Play a prompt and record a message; the recording comes by the (signed) recording callback. */
  | { readonly kind: 'voicemail' }
  /** Ask for a digit among the choices; the digit is posted to the input URL. */
  | { readonly kind: 'deflection'; readonly options: readonly DeflectionChoice[] }
  /** Confirm the call back and hang up. */
  | { readonly kind: 'scheduled'; readonly at: Date }
  | { readonly kind: 'hangup' }

/** What the vendor said when it accepted a leg. */
export interface PlacedLeg {
  /** The vendor's id of the leg (Twilio's CallSid). */
  readonly providerCallId: string
}

/**
 * A leg's progress as every vendor reports it: `ringing` and `answered` on the way; the others
 * end the leg (`completed` after it was answered; `busy`, `no_answer`, `failed`, `canceled` before).
 */
export type CallLegStatus = 'initiated' | 'ringing' | 'answered' | 'busy' | 'no_answer' | 'failed' | 'canceled' | 'completed'

/** One thing a vendor reported about a leg (a status callback, a recording being ready). */
export interface CallLegEvent {
  readonly kind: 'call_leg'
  readonly providerCallId: string
  /** Our leg id, when the (authenticated) callback URL carries it. */
  readonly legId?: string | undefined
  readonly status: CallLegStatus
  /** When the vendor says it happened; now when it does not. */
  readonly at?: Date | undefined
  /** Seconds the leg was answered, on `completed`. */
  readonly durationSeconds?: number | undefined
  /** A finished recording of the conference (or a voicemail). */
  readonly recordingUrl?: string | undefined
  /** The vendor's own status word, kept in the call's history. */
  readonly providerStatus?: string | undefined
  /** The vendor's error code of a failure. */
  readonly errorCode?: string | undefined
  /** Digits the person pressed (a deflection choice). */
  readonly digits?: string | undefined
}

/** The instructions a leg runs once answered (Twilio: TwiML), served by Switchboard at `answerUrl`. */
export interface AnswerDocument {
  readonly contentType: string
  readonly body: string
}

/** A voice vendor. Every method throws `ProviderError` (`retryable` for outages, not for a rejected number). */
export interface CallControlProvider {
  /** The vendor: `sandbox`, `twilio`. */
  readonly id: string
  /** The call's `voip_provider` value when this vendor carried it (`voip_provider_twilio`). */
  readonly voipProvider: string
  /** Dial one leg into the call's conference. */
  placeLeg(request: CallLegRequest): Promise<PlacedLeg>
  /** Put a leg on hold (`true`) or take it off (`false`). */
  hold(providerCallId: string, callId: string, onHold: boolean): Promise<void>
  /** End a leg (ringing or answered). Ending a leg that already ended is not an error. */
  hangUp(providerCallId: string): Promise<void>
  /** The instructions for a leg that answered: join conference `callId`, recording when asked. */
  answerDocument(request: {
    readonly callId: string; readonly legId: string; readonly record: boolean; readonly statusCallbackUrl: string
    /** What the leg runs (default: the conference); `inputUrl` is where its digits and recording end are posted. */
    readonly step?: AnswerStep | undefined; readonly inputUrl?: string | undefined
  }): AnswerDocument
  /** Whether a callback request really comes from the vendor (Twilio: `X-Twilio-Signature`). */
  verifySignature(req: RawWebhook): boolean
  /** Every event of a verified callback; throws ProviderError `invalid_webhook` on a body it cannot read. */
  parseCallWebhook(req: RawWebhook): CallLegEvent[]
  /** Release pooled connections. */
  close?(): Promise<void>
}
