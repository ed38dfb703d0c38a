import { Type } from 'typebox'
import type { Transaction } from 'kysely'
import type { DB, OfferEventRow } from '../../db/schema.ts'
import type { JobType } from '../../jobs/index.ts'
import { TenantIdSchema, type TenantId } from '../../lib/tenant-id.ts'
import type { EndUser, Menu } from '../contact-center/index.ts'
import type { CallStatus } from './call.machine.ts'

/** The Apps API's call types (§1.11): the display value of each kind of API call. */
export const CALL_TYPES = { outbound: 'Voice Outbound (API)', incoming: 'Voice Inbound (API)', scheduled: 'Voice Scheduled (API)' } as const
export type CallKind = keyof typeof CALL_TYPES

/** An agent as a call shows them (`agent_info`, participants). */
export interface CallAgent {
  readonly num: number
  readonly firstName: string
  readonly lastName: string
  readonly email: string
  readonly agentNumber: string | null
}

/** A party of a call (§3.3, call variant). */
export interface CallParticipant {
  readonly num: number
  readonly type: 'end_user' | 'agent'
  readonly status: string
  readonly agentNum: number | null
  readonly endUserNum: number | null
  readonly connectedAt: Date | null
  readonly endedAt: Date | null
}

/** A transfer of a call to another agent, or to an agent of another queue (§3.7). */
export interface CallTransfer {
  readonly num: number
  readonly status: 'transferring' | 'transferred' | 'failed'
  readonly failReason: string
  readonly fromAgent: CallAgent | null
  readonly toAgent: CallAgent | null
  readonly fromMenu: Menu | null
  readonly toMenu: Menu | null
  readonly createdAt: Date
}

/** A call (§3.1) as core knows it; the Apps API presenter renders it. */
export interface Call {
  readonly id: string
  readonly tenantId: TenantId
  readonly num: number
  readonly parentNum: number | null
  readonly lang: string
  readonly callType: string
  readonly status: CallStatus
  readonly statusText: string
  readonly createdAt: Date
  readonly queuedAt: Date | null
  readonly assignedAt: Date | null
  readonly connectedAt: Date | null
  readonly endsAt: Date | null
  readonly scheduledAt: Date | null
  readonly callDuration: number
  /** Seconds on hold so far (a hold still running counts up to now). */
  readonly holdDuration: number
  readonly onHold: boolean
  readonly voipProvider: string | null
  readonly outTicketId: string | null
  readonly outTicketUrl: string | null
  readonly verified: boolean
  readonly badActor: boolean
  readonly repeatCustomer: boolean
  readonly recordingUrl: string | null
  readonly recordingPermission: string
  readonly voicemailReason: string
  readonly deflection: string
  readonly disconnectedBy: string
  readonly failReason: string
  readonly failDetails: string | null
  readonly supportNumber: string | null
  readonly menu: Menu | null
  readonly menuPath: readonly Menu[]
  readonly agent: CallAgent | null
  readonly endUser: { readonly num: number; readonly identifier: string | null; readonly outContactId: string | null } | null
  readonly endUserPhone: string | null
  readonly transfers: readonly CallTransfer[]
  readonly participants: readonly CallParticipant[]
  readonly offerType: string | null
  readonly offerEvents: readonly OfferEventRow[]
  readonly answerType: string | null
  readonly outboundNumber: string | null
  readonly customData: Record<string, unknown> | null
  /** W2: the outbound dialer's contact data. */
  readonly contactData: Record<string, unknown> | null
  /** C1/C2 answered 202: the call waits for its agent to confirm it until then (null: not waiting). */
  readonly confirmBy: Date | null
}

/** `POST /calls`, its fields as sent (strings, numbers or absent); the service checks them in the spec's order. */
export interface CreateCallInput {
  readonly kind: CallKind
  readonly agentEmail?: unknown
  readonly endUserNumber?: unknown
  readonly ticketId?: unknown
  readonly outboundNumber?: unknown
  readonly menuId?: unknown
  readonly callId?: unknown
  readonly scheduledAt?: unknown
  readonly lang?: unknown
  readonly recordingPermission?: unknown
}

/** A leg the voice provider is to dial, as core asks for it (the providers' `CallLegRequest`). */
export interface LegRequest {
  readonly legId: string
  readonly callId: string
  readonly to: string
  readonly from: string
  readonly statusCallbackUrl: string
  readonly answerUrl: string
  readonly ringTimeoutSeconds: number
  readonly record: boolean
  /** A voicemail leg (a deflected call): the person records a message. */
  readonly voicemail?: boolean | undefined
  /** A deflection leg: the person is asked to choose (digit 1 voicemail, 2 schedule a call) among these. */
  readonly deflection?: readonly DeflectionChoice[] | undefined
  /** Where the vendor posts what the person keyed in or recorded (Twilio: `<Gather>`/`<Record>` actions). */
  readonly inputUrl?: string | undefined
}

/** What a deflected caller may choose on the phone: digit 1 leaves a voicemail, digit 2 schedules a call back. */
export type DeflectionChoice = 'voicemail' | 'schedule_call'
/** The digit of each deflection choice. */
export const DEFLECTION_DIGITS: Readonly<Record<DeflectionChoice, string>> = { voicemail: '1', schedule_call: '2' }

/**
 * What a leg that is answered runs next (the vendor renders it: Twilio as TwiML): join the call's
 * conference; record a voicemail; ask for a deflection choice; confirm a scheduled call and hang up; hang up.
 */
export type LegStep =
  | { readonly kind: 'conference' }
  | { readonly kind: 'voicemail' }
  | { readonly kind: 'deflection'; readonly options: readonly DeflectionChoice[] }
  | { readonly kind: 'scheduled'; readonly at: Date }
  | { readonly kind: 'hangup' }

/** A leg's progress as a provider reported it (the providers' `CallLegEvent`). */
export interface LegEvent {
  readonly providerCallId: string
  readonly legId?: string | undefined
  readonly status: 'initiated' | 'ringing' | 'answered' | 'busy' | 'no_answer' | 'failed' | 'canceled' | 'completed'
  readonly at?: Date | undefined
  readonly durationSeconds?: number | undefined
  readonly recordingUrl?: string | undefined
  readonly errorCode?: string | undefined
  /** Digits the person pressed (a deflection choice). */
  readonly digits?: string | undefined
}

/**
 * The tenant's call control (a voice provider), as core uses it; `src/providers/voice` implements
 * it. Its methods throw errors with `retryable` (a provider outage) or not (a rejected number).
 */
export interface CallControl {
  /** The vendor (`sandbox`, `twilio`): its callbacks come to `/webhooks/<vendor>/voice/…`. */
  readonly id: string
  readonly voipProvider: string
  placeLeg(request: LegRequest): Promise<{ providerCallId: string }>
  hold(providerCallId: string, callId: string, onHold: boolean): Promise<void>
  hangUp(providerCallId: string): Promise<void>
}

/** The tenant's call control: attempt 0 its configured provider, 1 its fallback (undefined: none). */
export type VoicePort = (tenantId: TenantId, attempt: 0 | 1) => Promise<CallControl | undefined>

/** A CRM ticket and its contact, as a CRM adapter finds it (`ticket_id` of C1–C4). */
export interface Ticket {
  readonly id: string
  readonly url: string | null
  readonly contact: { readonly name?: string | null; readonly phone: string | null; readonly email?: string | null; readonly id?: string | null }
}

/** The CRM adapter calls resolve `ticket_id` through. */
export interface TicketsPort {
  findTicket(tenantId: TenantId, ticketId: string): Promise<Ticket | undefined>
}

/** End users of calls: the one with a phone (made when new). */
export interface CallEndUsersPort {
  forPhone(trx: Transaction<DB>, tenantId: TenantId, e164: string): Promise<EndUser>
}

/** `cc.call_dial`: place the legs of a call (attempt 1: on the fallback provider). */
export const CALL_DIAL_JOB = {
  name: 'cc.call_dial',
  payload: Type.Object({ tenantId: TenantIdSchema, callNum: Type.Integer({ minimum: 1 }), attempt: Type.Integer({ minimum: 0, maximum: 1 }) }, { additionalProperties: false }),
} as const satisfies JobType

/** `cc.call_scheduled`: a scheduled call (C4) is due. */
export const CALL_SCHEDULED_JOB = {
  name: 'cc.call_scheduled',
  payload: Type.Object({ tenantId: TenantIdSchema, callNum: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
} as const satisfies JobType

/** `cc.call_leg_event`: a leg event to apply (the sandbox's simulated callbacks; a vendor callback may take the same path). */
export const CALL_LEG_EVENT_JOB = {
  name: 'cc.call_leg_event',
  payload: Type.Object({
    tenantId: TenantIdSchema,
    providerCallId: Type.String({ minLength: 1, maxLength: 200 }),
    legId: Type.Optional(Type.String({ maxLength: 100 })),
    status: Type.Enum(['initiated', 'ringing', 'answered', 'busy', 'no_answer', 'failed', 'canceled', 'completed']),
    at: Type.Optional(Type.String({ maxLength: 40 })),
    durationSeconds: Type.Optional(Type.Integer({ minimum: 0 })),
    recordingUrl: Type.Optional(Type.String({ maxLength: 2000 })),
    errorCode: Type.Optional(Type.String({ maxLength: 100 })),
    digits: Type.Optional(Type.String({ maxLength: 20 })),
  }, { additionalProperties: false }),
} as const satisfies JobType

/** `cc.call_confirm_timeout`: an outbound call (202) its agent did not confirm in time is cancelled. */
export const CALL_CONFIRM_TIMEOUT_JOB = {
  name: 'cc.call_confirm_timeout',
  payload: Type.Object({ tenantId: TenantIdSchema, callNum: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
} as const satisfies JobType

/** `cc.call_control`: hang up, hold or resume a leg on its provider (enqueued with the change that needs it). */
export const CALL_CONTROL_JOB = {
  name: 'cc.call_control',
  payload: Type.Object({
    tenantId: TenantIdSchema, action: Type.Enum(['hang_up', 'hold', 'resume']), providerCallId: Type.String({ minLength: 1, maxLength: 200 }),
    callId: Type.String({ maxLength: 100 }), attempt: Type.Integer({ minimum: 0, maximum: 1 }),
  }, { additionalProperties: false }),
} as const satisfies JobType
