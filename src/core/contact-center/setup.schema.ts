import { Type, type Static } from 'typebox'
import { Compile, type Validator } from 'typebox/compile'
import { toE164 } from '../../lib/phone.ts'
import { dedupeProblems, describeIssue, schemaIssues, type SchemaIssue } from '../../lib/schema-problems.ts'
import { isTimeZone } from '../../lib/timezone.ts'
import { checkUrlSyntax } from '../../lib/url-safety.ts'
import { MAX_CONTACT_ID, MAX_CONTACT_NAME, MAX_SUBJECT, TICKET_ID_PATTERN } from '../crm/index.ts'
import { parseDuration, parseLocalTime } from '../scheduling/index.ts'
import { isMaskedSecret, WEBHOOK_SECRET_KEYS } from './setup-redaction.ts'

/**
 * The contact-center setup file (`GET /schemas/contact-center.json`): what an operator declares for
 * a tenant — teams, agents, custom agent statuses, the menu (queue) tree, phone numbers and
 * settings. Loaded by `switchboard contact-center load` and `PUT /admin/contact-center`; loading
 * again updates in place (teams, statuses by name, agents by email, menus by path, numbers by number).
 */

const Name = (description: string) => Type.String({ minLength: 1, maxLength: 100, pattern: '\\S', description })
const Duration = (description: string) => Type.String({ pattern: '^\\s*(\\d+\\s*[wdhms]\\s*)+$', description: `${description}: a duration (30s, 10m, 2h, 1d)` })
const HhMm = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$|^24:00$', description: 'A local time HH:MM (24:00 closes at midnight)' })
const Language = Type.String({ pattern: '^[a-z]{2}(-[A-Z]{2})?$', description: 'ISO 639-1 code, optionally with a region (en, es, pt-BR)' })

/** What an end user may be offered instead of waiting when a queue is closed or full. */
export const DEFLECTION_OPTIONS = ['stay', 'voicemail', 'schedule_call', 'sms', 'email', 'end'] as const
export type DeflectionOption = (typeof DEFLECTION_OPTIONS)[number]
const Deflection = Type.Array(Type.Enum(DEFLECTION_OPTIONS), { uniqueItems: true, maxItems: DEFLECTION_OPTIONS.length, description: 'Options offered to the end user, in order' })

export const CHANNELS = ['call', 'chat'] as const
export type CcChannel = (typeof CHANNELS)[number]
export const MENU_TYPES = { ivr: 'ivr_menu', mobile: 'mobile_menu', web: 'web_menu' } as const
export type MenuType = (typeof MENU_TYPES)[keyof typeof MENU_TYPES]
export const ROLES = ['Admin', 'Manager', 'Agent', 'Developer'] as const
export const PERMISSIONS = ['outbound_call', 'outbound_sms', 'unrestricted_international_calling'] as const
/** The statuses every contact center has; `Available` and `Unavailable` agents may set, the rest the system sets. */
export const SYSTEM_STATUSES = { available: 'Available', unavailable: 'Unavailable', offline: 'Offline', inChat: 'In-chat', inCall: 'In-call', wrapUp: 'Wrap-up' } as const

const Hours = Type.Object({
  time_zone: Type.Optional(Type.String({ description: 'IANA time zone of these hours (default: settings.time_zone)' })),
  weekly: Type.Array(Type.Object({
    day: Type.Enum(['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']),
    open: HhMm,
    close: HhMm,
  }, { additionalProperties: false }), { maxItems: 100, description: 'Open intervals per day; an interval may cross midnight (22:00–06:00)' }),
  holidays: Type.Optional(Type.Array(Type.Object({
    date: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }),
    name: Name('Holiday name'),
    open: Type.Optional(HhMm),
    close: Type.Optional(HhMm),
  }, { additionalProperties: false }), { maxItems: 500, description: 'Closed all day unless open/close are given' })),
}, { additionalProperties: false, description: 'Hours of operation; absent = always open' })

interface MenuNode {
  name: string
  type?: 'ivr' | 'mobile' | 'web'
  output_msg?: string
  hidden?: boolean
  channels?: CcChannel[]
  languages?: string[]
  teams?: string[]
  priority?: number
  hours?: Static<typeof Hours>
  after_hours?: { message?: string; deflection?: DeflectionOption[] }
  over_capacity?: { max_queued?: number; max_wait?: string; message?: string; deflection?: DeflectionOption[] }
  manual_redirection?: { enabled: boolean; message?: string }
  virtual_agent?: { thread: string; name?: string }
  children?: MenuNode[]
}

const MenuFields = {
  name: Name('Menu (queue) name, unique among its siblings'),
  output_msg: Type.Optional(Type.String({ maxLength: 2000, description: 'Message shown or played when the menu is selected' })),
  hidden: Type.Optional(Type.Boolean()),
  channels: Type.Optional(Type.Array(Type.Enum(CHANNELS), { minItems: 1, uniqueItems: true, description: 'Leaf only: channels the queue serves' })),
  languages: Type.Optional(Type.Array(Language, { minItems: 1, maxItems: 50, uniqueItems: true, description: 'Leaf only (default [en])' })),
  teams: Type.Optional(Type.Array(Name('Team name'), { minItems: 1, maxItems: 100, uniqueItems: true, description: 'Leaf only: teams whose agents serve the queue' })),
  priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, description: 'Leaf only: higher is offered first when an agent serves several queues (default 0)' })),
  hours: Type.Optional(Hours),
  after_hours: Type.Optional(Type.Object({
    message: Type.Optional(Type.String({ minLength: 1, maxLength: 2000, description: 'Told to end users while closed (and the answer of a resume refused after hours)' })),
    deflection: Type.Optional(Deflection),
  }, { additionalProperties: false })),
  over_capacity: Type.Optional(Type.Object({
    max_queued: Type.Optional(Type.Integer({ minimum: 0, maximum: 100000, description: 'Over capacity when this many sessions wait' })),
    max_wait: Type.Optional(Duration('Over capacity when the estimated wait exceeds this')),
    message: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
    deflection: Type.Optional(Deflection),
  }, { additionalProperties: false })),
  manual_redirection: Type.Optional(Type.Object({ enabled: Type.Boolean(), message: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })) }, { additionalProperties: false })),
  virtual_agent: Type.Optional(Type.Object({
    thread: Type.String({ pattern: '^[A-Za-z0-9_.\\-]{1,100}$', description: 'The tenant’s bot thread that answers first' }),
    name: Type.Optional(Name('Name the virtual agent shows')),
  }, { additionalProperties: false, description: 'Leaf only: chats start with this virtual agent (status va_assigned)' })),
}

// The tree is recursive; its depth is bounded by the checker (MAX_MENU_DEPTH).
const MenuChild = Type.Cyclic({
  Menu: Type.Object({ ...MenuFields, children: Type.Optional(Type.Array(Type.Ref('Menu'), { minItems: 1, maxItems: 200 })) }, { additionalProperties: false }),
}, 'Menu')
const RootMenu = Type.Object({
  ...MenuFields,
  type: Type.Enum(['ivr', 'mobile', 'web'], { description: 'Menu type of the whole tree: ivr_menu, mobile_menu or web_menu' }),
  children: Type.Optional(Type.Array(MenuChild, { minItems: 1, maxItems: 200 })),
}, { additionalProperties: false })

const Agent = Type.Object({
  email: Type.String({ minLength: 3, maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+$', description: 'Sign-in; unique per tenant (case-insensitive)' }),
  first_name: Name('First name'),
  last_name: Name('Last name'),
  agent_number: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
  location: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  teams: Type.Optional(Type.Array(Name('Team name'), { maxItems: 100, uniqueItems: true })),
  roles: Type.Optional(Type.Array(Type.Enum(ROLES), { uniqueItems: true, description: 'Default [Agent]' })),
  permissions: Type.Optional(Type.Array(Type.Enum(PERMISSIONS), { uniqueItems: true })),
  chat_capacity: Type.Optional(Type.Integer({ minimum: 0, maximum: 50, description: 'Concurrent chats (default 3; 0 = takes no chats)' })),
  phone_numbers: Type.Optional(Type.Array(Type.String({ minLength: 3, maxLength: 40 }), { maxItems: 20 })),
  password: Type.Optional(Type.String({ minLength: 8, maxLength: 200, description: 'Sets the sign-in password (stored hashed). Prefer password_hash in files kept in version control' })),
  password_hash: Type.Optional(Type.String({ pattern: '^scrypt\\$', maxLength: 500, description: 'A hash printed by `switchboard contact-center hash-password`' })),
  active: Type.Optional(Type.Boolean({ description: 'false deactivates the agent (default true)' })),
}, { additionalProperties: false })

/** How a campaign dials (the dialer comes later; stored and validated now). */
export const DIAL_MODES = ['preview', 'progressive', 'predictive'] as const
/** Contact statuses a retry rule may name (§4.3 outcomes of a dial that can be tried again). */
export const RETRYABLE_STATUSES = ['Not Picked Up', 'Not Reached to Contact', 'Carrier Error', 'Abandoned by Dialer', 'Voicemail Hung Up', 'Dialer General Error', 'Abandoned by Contact'] as const

const Campaign = Type.Object({
  name: Name('Campaign name, unique; the campaign keeps its id across reloads by name'),
  caller_id: Type.String({ minLength: 3, maxLength: 40, description: 'Outbound number (caller id): one of phone_numbers with voice' }),
  queue: Type.String({ minLength: 1, maxLength: 1000, description: 'Path of the leaf menu (queue) whose agents take the calls, "Root / Child"; it must serve the call channel' }),
  mode: Type.Optional(Type.Enum(DIAL_MODES, { description: 'Dialling mode (default progressive)' })),
  pacing_ratio: Type.Optional(Type.Number({ minimum: 1, maximum: 10, description: 'Predictive: lines dialled per available agent (default 1)' })),
  calling_hours: Type.Optional(Type.Object({
    weekly: Type.Array(Type.Object({
      day: Type.Enum(['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']),
      open: HhMm,
      close: HhMm,
    }, { additionalProperties: false }), { maxItems: 100 }),
  }, { additionalProperties: false, description: 'When contacts may be called, in each contact’s own time zone (derived from the number); default every day 08:00–21:00' })),
  retry: Type.Optional(Type.Object({
    max_attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 20, description: 'Dials per contact at most (default 3)' })),
    delay: Type.Optional(Duration('Wait before a redial (default 1h)')),
    statuses: Type.Optional(Type.Array(Type.Enum(RETRYABLE_STATUSES), { uniqueItems: true, description: 'Outcomes redialled (default Not Picked Up, Carrier Error, Abandoned by Dialer)' })),
  }, { additionalProperties: false })),
  preview: Type.Optional(Type.Object({
    offer_timeout: Type.Optional(Duration('Preview: how long an agent has to dial or skip an offered contact before it goes back to the pool (default 30s)')),
    repeat_after: Type.Optional(Duration('Preview: an agent who skipped a contact, or let its offer lapse, is not offered it again for this long (default 10m); other agents are at once')),
  }, { additionalProperties: false })),
}, { additionalProperties: false })

/** A CRM ticket of the built-in CRM adapter and its contact (issue 12, item 3). */
const Ticket = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 100, pattern: TICKET_ID_PATTERN, description: 'The ticket id calls name (`ticket_id`); the ticket is written by it on every load' }),
  subject: Type.Optional(Type.String({ maxLength: MAX_SUBJECT })),
  contact: Type.Object({
    id: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_CONTACT_ID, description: 'The contact’s CRM id (an end user’s out_contact_id after C5); generated when left out, kept across loads' })),
    name: Type.Optional(Type.String({ maxLength: MAX_CONTACT_NAME })),
    phone: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: 'The number calls with this ticket dial: + and country code (spaces, dashes, dots, parentheses allowed)' })),
    email: Type.Optional(Type.String({ maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+$' })),
  }, { additionalProperties: false }),
}, { additionalProperties: false })

/** The setup file, as `GET /schemas/contact-center.json` publishes it. */
export const ContactCenterSetupSchema = Type.Object({
  $schema: Type.Optional(Type.String()),
  settings: Type.Optional(Type.Object({
    time_zone: Type.Optional(Type.String({ description: 'Company time zone (IANA, default UTC)' })),
    sms_enabled: Type.Optional(Type.Boolean({ description: 'SMS sessions (default false)' })),
    outbound_sms_enabled: Type.Optional(Type.Boolean({ description: 'POST /sms (default false)' })),
    chat_dismissal_timeout: Type.Optional(Duration('Dismiss a chat inactive this long (default 10m)')),
    offer_timeout: Type.Optional(Duration('An offer not accepted within this goes to the next agent (default 30s)')),
    wrap_up_timeout: Type.Optional(Duration('Wrap-up ends by itself after this (default 2m; 0s = no wrap-up)')),
    chat_expiration_timeout: Type.Optional(Duration('A chat queued this long with no agent, or assigned with the awaited reply this long overdue, times out (default 24h)')),
    rate_limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, description: 'Apps API requests per second (default 10)' })),
    webhook: Type.Optional(Type.Object({
      url: Type.String({ minLength: 1, maxLength: 2000, description: 'Chat events are POSTed here (signed, see README)' }),
      primary_secret: Type.Optional(Type.String({ minLength: 4, maxLength: 200, description: 'Signs webhooks: at least 16 characters; or the masked value the server serves (****abcd) to keep the stored one; left out, the stored one is kept' })),
      secondary_secret: Type.Optional(Type.String({ minLength: 4, maxLength: 200, description: 'Also signs webhooks while consumers move to a new primary; left out: none' })),
    }, { additionalProperties: false })),
    dispositions: Type.Optional(Type.Array(Name('Wrap-up disposition'), { maxItems: 100, uniqueItems: true })),
    confirm_outbound_calls: Type.Optional(Type.Boolean({ description: 'C1/C2 answer 202: the call waits for its agent to confirm (or cancel) it in the agent API before it is dialled (default false: 201, dialled at once)' })),
    outbound_confirm_timeout: Type.Optional(Duration('An outbound call not confirmed within this is cancelled (default 60s)')),
  }, { additionalProperties: false })),
  teams: Type.Optional(Type.Array(Type.Object({ name: Name('Team name, unique') }, { additionalProperties: false }), { maxItems: 1000 })),
  statuses: Type.Optional(Type.Array(Type.Object({
    name: Name('Custom status name, unique; not a system status'),
  }, { additionalProperties: false }), { maxItems: 100, description: 'Custom agent statuses (agents take no offers in them)' })),
  agents: Type.Optional(Type.Array(Agent, { maxItems: 10000 })),
  menus: Type.Optional(Type.Array(RootMenu, { maxItems: 100 })),
  phone_numbers: Type.Optional(Type.Array(Type.Object({
    number: Type.String({ minLength: 3, maxLength: 40, description: 'E.164, or human format with the country code' }),
    sms: Type.Optional(Type.Boolean({ description: 'SMS-enabled (default true)' })),
    voice: Type.Optional(Type.Boolean({ description: 'Voice-enabled (default true)' })),
  }, { additionalProperties: false }), { maxItems: 1000 })),
  campaigns: Type.Optional(Type.Array(Campaign, { maxItems: 1000, description: 'Outbound campaigns; their contacts are managed through the Apps API (K1–K7)' })),
  tickets: Type.Optional(Type.Array(Ticket, { maxItems: 10000, description: 'CRM tickets of the built-in CRM (`ticket_id` of calls); written by id on every load, tickets not listed are left alone' })),
}, {
  additionalProperties: false,
  $id: 'https://switchboard.local/schemas/contact-center.json',
  title: 'Switchboard contact-center setup',
  description: 'A tenant’s contact center: teams, agents, custom statuses, the menu (queue) tree, phone numbers and settings.',
})

export type SetupDocument = Static<typeof ContactCenterSetupSchema>
export type SetupAgent = Static<typeof Agent>
export type SetupMenu = MenuNode
export type SetupCampaign = Static<typeof Campaign>

/** `GET /schemas/contact-center.json`: the JSON Schema (2020-12) of a setup file. */
export function contactCenterJsonSchema(): Record<string, unknown> {
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', ...JSON.parse(JSON.stringify(ContactCenterSetupSchema)) }
}

/** How deep the menu tree may go (root = 1). */
export const MAX_MENU_DEPTH = 8

let validator: Validator | undefined

function special(where: string, issue: SchemaIssue): string | undefined {
  if (issue.keyword !== 'pattern') return undefined
  if (/\.(offer_timeout|chat_dismissal_timeout|wrap_up_timeout|chat_expiration_timeout|outbound_confirm_timeout|max_wait|delay)$/.test(where)) return `${where}: not a duration (use 30s, 10m, 2h)`
  if (/\.(open|close)$/.test(where)) return `${where}: not a local time HH:MM`
  if (where.endsWith('.email')) return `${where}: not an email address`
  if (/\.languages\[\d+\]$/.test(where)) return `${where}: not a language code (en, es, pt-BR)`
  if (where.endsWith('.date')) return `${where}: not a date YYYY-MM-DD`
  if (where.endsWith('.thread')) return `${where}: not a thread name`
  if (where.endsWith('.password_hash')) return `${where}: not a hash from \`switchboard contact-center hash-password\``
  if (where.endsWith('.name') || /\.teams\[\d+\]$/.test(where)) return `${where}: must not be blank`
  return undefined
}

/** A validated setup file: the document with defaults applied where the loader needs them. */
export interface ValidatedSetup {
  readonly document: SetupDocument
}

/**
 * Check a parsed setup file: its shape against the schema, then what a schema cannot say (names
 * unique, references to teams resolve, leaves have channels and teams, time zones, durations,
 * phone numbers and the webhook URL parse). Every problem is one line `path: problem`.
 * `threadExists`, when given, checks virtual agents name a thread of the tenant.
 */
export function validateSetupDocument(doc: unknown, threadExists?: (name: string) => boolean): { ok: true; document: SetupDocument } | { ok: false; errors: string[] } {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return { ok: false, errors: ['(document): must be an object (settings, teams, agents, menus …)'] }
  validator ??= Compile(ContactCenterSetupSchema) as unknown as Validator
  const issues = schemaIssues(validator, doc)
  if (issues.length > 0) return { ok: false, errors: dedupeProblems(issues.map((i) => describeIssue('', i, special))) }
  const d = doc as SetupDocument
  const errors: string[] = []

  const s = d.settings ?? {}
  if (s.time_zone !== undefined && !isTimeZone(s.time_zone)) errors.push(`settings.time_zone: unknown time zone "${s.time_zone}"`)
  for (const key of ['chat_dismissal_timeout', 'offer_timeout', 'wrap_up_timeout', 'chat_expiration_timeout', 'outbound_confirm_timeout'] as const) {
    const v = s[key]
    const ms = v === undefined ? undefined : parseDuration(v)
    if (v !== undefined && (ms === undefined || (ms === 0 && key !== 'wrap_up_timeout'))) errors.push(`settings.${key}: not a duration (use 30s, 10m, 2h)`)
  }
  for (const key of WEBHOOK_SECRET_KEYS) {
    const v = s.webhook?.[key]
    if (v !== undefined && !isMaskedSecret(v) && v.length < 16) errors.push(`settings.webhook.${key}: at least 16 characters (or the masked value the server serves, to keep the stored secret)`)
  }
  if (s.webhook) {
    try {
      const { url } = checkUrlSyntax(s.webhook.url, { allowPrivate: true, allowedHosts: [] })
      if (url.protocol !== 'https:' && url.protocol !== 'http:') errors.push('settings.webhook.url: must be an http(s) URL')
    } catch (err) {
      errors.push(`settings.webhook.url: ${(err as Error).message}`)
    }
  }
  if (s.outbound_sms_enabled && s.sms_enabled === false) errors.push('settings.outbound_sms_enabled: needs sms_enabled')

  const teams = new Set<string>()
  d.teams?.forEach((t, i) => {
    const key = t.name.trim()
    if (teams.has(key)) errors.push(`teams[${i}].name: "${key}" is listed twice`)
    teams.add(key)
  })
  const team = (path: string, name: string) => {
    if (!teams.has(name.trim())) errors.push(`${path}: unknown team "${name}"`)
  }

  const systemNames = new Set(Object.values(SYSTEM_STATUSES).map((n) => n.toLowerCase()))
  const statuses = new Set<string>()
  d.statuses?.forEach((st, i) => {
    const key = st.name.trim().toLowerCase()
    if (systemNames.has(key)) errors.push(`statuses[${i}].name: "${st.name}" is a system status`)
    else if (statuses.has(key)) errors.push(`statuses[${i}].name: "${st.name}" is listed twice`)
    statuses.add(key)
  })

  const emails = new Set<string>()
  const numbers = new Set<string>()
  d.agents?.forEach((a, i) => {
    const email = a.email.trim().toLowerCase()
    if (emails.has(email)) errors.push(`agents[${i}].email: "${a.email}" is listed twice`)
    emails.add(email)
    if (a.agent_number !== undefined) {
      if (numbers.has(a.agent_number)) errors.push(`agents[${i}].agent_number: "${a.agent_number}" is listed twice`)
      numbers.add(a.agent_number)
    }
    a.teams?.forEach((t, j) => team(`agents[${i}].teams[${j}]`, t))
    if (a.password !== undefined && a.password_hash !== undefined) errors.push(`agents[${i}]: has both password and password_hash`)
    a.phone_numbers?.forEach((p, j) => {
      if (!toE164(p)) errors.push(`agents[${i}].phone_numbers[${j}]: not a phone number with its country code`)
    })
  })

  const checkMenu = (m: MenuNode, path: string, depth: number, zone: string) => {
    if (depth > MAX_MENU_DEPTH) {
      errors.push(`${path}: menus nest at most ${MAX_MENU_DEPTH} levels`)
      return
    }
    const leaf = !m.children || m.children.length === 0
    const leafOnly = ['channels', 'languages', 'teams', 'priority', 'virtual_agent'] as const
    if (!leaf) for (const key of leafOnly) if (m[key] !== undefined) errors.push(`${path}.${key}: only a leaf menu (one without children) has ${key}`)
    if (leaf) {
      if (!m.channels) errors.push(`${path}: a leaf menu needs "channels" (call, chat)`)
      if (!m.teams && !m.virtual_agent) errors.push(`${path}: a leaf menu needs "teams" (or a virtual_agent)`)
      if (m.virtual_agent && m.channels && !m.channels.includes('chat')) errors.push(`${path}.virtual_agent: needs the chat channel`)
      if (m.virtual_agent && threadExists && !threadExists(m.virtual_agent.thread)) errors.push(`${path}.virtual_agent.thread: unknown thread "${m.virtual_agent.thread}"`)
    }
    m.teams?.forEach((t, j) => team(`${path}.teams[${j}]`, t))
    const hoursZone = m.hours?.time_zone ?? zone
    if (m.hours?.time_zone !== undefined && !isTimeZone(m.hours.time_zone)) errors.push(`${path}.hours.time_zone: unknown time zone "${m.hours.time_zone}"`)
    if (m.hours) checkHours(m.hours, `${path}.hours`, errors)
    if (m.over_capacity?.max_wait !== undefined && !parseDuration(m.over_capacity.max_wait)) errors.push(`${path}.over_capacity.max_wait: not a duration (use 30s, 10m, 2h)`)
    const siblings = new Set<string>()
    m.children?.forEach((c, j) => {
      const key = c.name.trim()
      if (siblings.has(key)) errors.push(`${path}.children[${j}].name: "${key}" is listed twice under ${m.name}`)
      siblings.add(key)
      checkMenu(c, `${path}.children[${j}]`, depth + 1, hoursZone)
    })
  }
  const roots = new Map<string, Set<string>>()
  d.menus?.forEach((m, i) => {
    const names = roots.get(m.type) ?? new Set<string>()
    if (names.has(m.name.trim())) errors.push(`menus[${i}].name: "${m.name}" is listed twice among the ${m.type} menus`)
    names.add(m.name.trim())
    roots.set(m.type, names)
    checkMenu(m as MenuNode, `menus[${i}]`, 1, s.time_zone ?? 'UTC')
  })

  const phones = new Set<string>()
  d.phone_numbers?.forEach((p, i) => {
    const e164 = toE164(p.number)
    if (!e164) errors.push(`phone_numbers[${i}].number: not a phone number with its country code`)
    else if (phones.has(e164)) errors.push(`phone_numbers[${i}].number: ${e164} is listed twice`)
    else phones.add(e164)
  })

  const campaignNames = new Set<string>()
  const callLeaves = new Set<string>()
  const walkLeaves = (m: MenuNode, parent: string | null) => {
    const path = parent === null ? m.name.trim() : `${parent} / ${m.name.trim()}`
    if ((!m.children || m.children.length === 0) && m.channels?.includes('call')) callLeaves.add(path)
    m.children?.forEach((c) => walkLeaves(c, path))
  }
  d.menus?.forEach((m) => walkLeaves(m as MenuNode, null))
  d.campaigns?.forEach((c, i) => {
    const key = c.name.trim()
    if (campaignNames.has(key)) errors.push(`campaigns[${i}].name: "${key}" is listed twice`)
    campaignNames.add(key)
    const caller = toE164(c.caller_id)
    const listed = d.phone_numbers?.find((p) => toE164(p.number) === caller)
    if (!caller) errors.push(`campaigns[${i}].caller_id: not a phone number with its country code`)
    else if (!listed || listed.voice === false) errors.push(`campaigns[${i}].caller_id: ${caller} is not one of phone_numbers with voice`)
    if (!callLeaves.has(normalizeMenuPath(c.queue))) errors.push(`campaigns[${i}].queue: "${c.queue}" is not a leaf menu serving calls`)
    c.calling_hours?.weekly.forEach((w, j) => {
      if (w.open === w.close) errors.push(`campaigns[${i}].calling_hours.weekly[${j}]: open and close are the same time`)
      if (w.open === '24:00') errors.push(`campaigns[${i}].calling_hours.weekly[${j}].open: 24:00 only closes a day`)
    })
    if (c.retry?.delay !== undefined && !parseDuration(c.retry.delay)) errors.push(`campaigns[${i}].retry.delay: not a duration (use 30s, 10m, 2h)`)
  })

  const ticketIds = new Set<string>()
  d.tickets?.forEach((t, i) => {
    if (ticketIds.has(t.id)) errors.push(`tickets[${i}].id: "${t.id}" is listed twice`)
    ticketIds.add(t.id)
    if (t.contact.phone !== undefined && !/^\+[1-9][0-9]{7,14}$/.test(t.contact.phone.replace(/[\s\-.()]/g, ''))) errors.push(`tickets[${i}].contact.phone: not a phone number with its country code`)
  })

  if (errors.length > 0) return { ok: false, errors: dedupeProblems(errors) }
  return { ok: true, document: d }
}

/** A menu path as written in a file ("Site /Help") in the form menus are keyed by ("Site / Help"). */
export function normalizeMenuPath(path: string): string {
  return path.split('/').map((p) => p.trim()).join(' / ')
}

const minutes = (hhmm: string) => (hhmm === '24:00' ? 1440 : parseLocalTime(hhmm)!.hour * 60 + parseLocalTime(hhmm)!.minute)

function checkHours(h: Static<typeof Hours>, path: string, errors: string[]): void {
  h.weekly.forEach((w, i) => {
    if (w.open === w.close) errors.push(`${path}.weekly[${i}]: open and close are the same time`)
    if (w.open === '24:00') errors.push(`${path}.weekly[${i}].open: 24:00 only closes a day`)
  })
  const dates = new Set<string>()
  h.holidays?.forEach((d, i) => {
    const [y, m, day] = d.date.split('-').map(Number) as [number, number, number]
    const probe = new Date(Date.UTC(y, m - 1, day))
    if (probe.getUTCFullYear() !== y || probe.getUTCMonth() !== m - 1 || probe.getUTCDate() !== day) errors.push(`${path}.holidays[${i}].date: not a date YYYY-MM-DD`)
    if (dates.has(d.date)) errors.push(`${path}.holidays[${i}].date: ${d.date} is listed twice`)
    dates.add(d.date)
    if ((d.open === undefined) !== (d.close === undefined)) errors.push(`${path}.holidays[${i}]: give both open and close, or neither (closed all day)`)
    if (d.open !== undefined && d.close !== undefined && minutes(d.open) >= minutes(d.close)) errors.push(`${path}.holidays[${i}]: close must be after open`)
  })
}
