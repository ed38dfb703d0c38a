import type { DeliveryService, InboundHandler, InboundMessage } from '../delivery/index.ts'
import { toE164 } from '../../lib/phone.ts'
import type { SuppressionService } from './suppression.service.ts'
import type { TenantId } from '../../lib/tenant-id.ts'

/** Replies that opt a number out of the tenant's messages on the channel they came in on. */
export const STOP_KEYWORDS = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT'] as const
/** Replies that opt it back in. */
export const START_KEYWORDS = ['START', 'UNSTOP'] as const
/** Replies answered with the tenant's help text. */
export const HELP_KEYWORDS = ['HELP', 'INFO'] as const

export type Keyword = 'stop' | 'start' | 'help' | 'yes'

/** Channels whose carriers require the keywords. */
const KEYWORD_CHANNELS: ReadonlySet<string> = new Set(['sms', 'whatsapp'])

/**
 * The keyword a whole message is (trimmed, case-insensitive), or undefined. `YES` is reported as
 * `yes`: it opts back in only a number that is opted out by keyword, and is otherwise an answer.
 */
export function keywordOf(body: string): Keyword | undefined {
  const word = body.trim().toUpperCase()
  if ((STOP_KEYWORDS as readonly string[]).includes(word)) return 'stop'
  if ((START_KEYWORDS as readonly string[]).includes(word)) return 'start'
  if ((HELP_KEYWORDS as readonly string[]).includes(word)) return 'help'
  if (word === 'YES') return 'yes'
  return undefined
}

/** The HELP answer of a tenant that has not written its own: the organisation and how to opt out. */
export function defaultHelpText(organisation: string): string {
  return `${organisation}: for help, contact ${organisation} directly. Reply STOP to unsubscribe, START to resubscribe. Msg & data rates may apply.`
}

function stopText(organisation: string): string {
  return `${organisation}: You have been unsubscribed and will not receive any more messages from this number. Reply START to resubscribe.`
}

function startText(organisation: string): string {
  return `${organisation}: You have been resubscribed and will receive messages from this number again. Reply HELP for help, STOP to unsubscribe.`
}

export interface KeywordHandlerDeps {
  readonly suppression: SuppressionService
  readonly delivery: DeliveryService
  /** The tenant's name and its own HELP text, if it wrote one. */
  readonly tenantInfo: (tenantId: TenantId) => Promise<{ name: string; smsHelpText: string | null } | undefined>
}

/**
 * The inbound handler of the carrier keywords on SMS and WhatsApp, registered in the `compliance`
 * phase so it runs before the bot, and `consumed`: a keyword never reaches the bot as an answer.
 *
 * - STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT: the number is suppressed on that channel
 *   (`stop_keyword`), and the confirmation carriers require goes out once per opt-out (a second
 *   STOP while opted out is not answered again).
 * - START, UNSTOP: the person's own opt-out (`stop_keyword`, `consent_withdrawn`) on that channel is
 *   lifted and confirmed; entries the organisation made (`dnc`, `manual`, scope `all`) stay.
 * - YES: the same as START for a number opted out by keyword; otherwise an ordinary answer.
 * - HELP, INFO: the tenant's help text (or the default naming the organisation and how to opt out).
 *
 * Replies are compliance replies (sent even to the number just opted out) with idempotency keys
 * derived from the entry or the inbound message, so the handler's retries send nothing twice.
 */
export function keywordHandler(deps: KeywordHandlerDeps): InboundHandler {
  const { suppression, delivery } = deps
  return async (message: InboundMessage) => {
    if (!KEYWORD_CHANNELS.has(message.channel)) return
    const keyword = keywordOf(message.body)
    if (!keyword) return
    const tenant = { id: message.tenantId }
    const info = await deps.tenantInfo(message.tenantId)
    if (!info) return 'consumed' // the tenant is gone
    const reply = (body: string, key: string) => delivery.send(tenant, {
      channel: message.channel, to: message.from, from: senderOf(message), body, idempotencyKey: key,
      complianceReply: true, ...(message.personId ? { personId: message.personId } : {}),
    })
    const scope = message.channel

    if (keyword === 'stop') {
      const { entry } = await suppression.add(tenant, { scope, address: message.from, reason: 'stop_keyword', source: `inbound:${message.id}` })
      await reply(stopText(info.name), `opt-out:${entry.id}`)
      return 'consumed'
    }
    if (keyword === 'help') {
      await reply(info.smsHelpText ?? defaultHelpText(info.name), `help:${message.id}`)
      return 'consumed'
    }
    const optInKey = `opt-in:${message.id}`
    if (keyword === 'yes') {
      // YES answers the bot's questions too; it only opts in a number that opted out by keyword
      // (or did, on an earlier attempt of this very handler, which already answered it).
      const entry = await suppression.isSuppressed(tenant, scope, message.from)
      const answered = await delivery.findOutboxByKey(tenant, optInKey)
      if (!answered && entry?.reason !== 'stop_keyword') return
    }
    await suppression.remove(tenant, { scope, address: message.from, reasons: ['stop_keyword', 'consent_withdrawn'] })
    await reply(startText(info.name), optInKey)
    return 'consumed'
  }
}

/** The tenant's number the person wrote to answers them, when it is one (else the provider's default). */
function senderOf(message: InboundMessage): string | undefined {
  if (message.to === null) return undefined
  return toE164(message.to) === undefined ? undefined : message.to
}
