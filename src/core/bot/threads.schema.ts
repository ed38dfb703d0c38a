import { Type, type Static, type TSchema } from 'typebox'
import { Compile, type Validator } from 'typebox/compile'
import { parseDuration, parseLocalTime } from '../scheduling/index.ts'
import { dedupeProblems, describeIssue, schemaIssues, type SchemaIssue } from '../../lib/schema-problems.ts'

/** A thread's name: what clients pass as `thread_name`. */
export const THREAD_NAME = '^[A-Za-z0-9_.\\-]{1,100}$'
const ThreadName = (description: string) => Type.String({ pattern: THREAD_NAME, description })
const Text = (description: string) => Type.String({ minLength: 1, maxLength: 2000, description })
const Duration = Type.String({ pattern: '^\\s*(\\d+\\s*[wdhms]\\s*)+$', description: 'A duration: 30m, 2h, 1d, 1w, or combined (1d12h)' })
const LocalTime = Type.String({ pattern: '^([01]?\\d|2[0-3]):[0-5]\\d$', description: 'A local time HH:MM (24 h) in the person’s time zone' })

/** Person fields an `ask` can store free text into. */
export const STORABLE_FIELDS = [
  'first_name', 'last_name', 'external_id', 'external_username', 'external_org',
  'external_data_1', 'external_data_2', 'external_data_3',
] as const
export type StorableField = (typeof STORABLE_FIELDS)[number]

const Store = Type.Union([
  Type.Object({ field: Type.Enum(STORABLE_FIELDS, { description: 'Person field to store the answer in' }) }, { additionalProperties: false }),
  Type.Object({ var: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$', description: 'Conversation variable (rendered as <<name>>)' }) }, { additionalProperties: false }),
], { description: 'Where a free-text answer goes' })

const Variables = Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' }), Type.String({ maxLength: 2000 }), { description: 'Conversation variables to set' })

const Choice = Type.Object({
  match: Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 50 })], {
    description: 'Keywords and synonyms that pick this choice (case- and accent-insensitive). The choice’s position (1, 2, …) always matches too.',
  }),
  label: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Quick-reply button text (default: the first keyword)' })),
  say: Type.Optional(Text('Said when this choice is picked')),
  set: Type.Optional(Variables),
  next: Type.Optional(ThreadName('Thread to continue in')),
  end: Type.Optional(Type.Boolean({ description: 'End the conversation after this choice' })),
}, { additionalProperties: false })

const SayStep = Type.Object({ say: Text('Text the bot sends') }, { additionalProperties: false })
const AskStep = Type.Object({
  ask: Text('Question the bot sends, then waits for the answer'),
  choices: Type.Optional(Type.Array(Choice, { minItems: 1, maxItems: 50 })),
  store: Type.Optional(Store),
  confirm: Type.Optional(Text('Said after a free-text answer was stored')),
  if_set: Type.Optional(Text('With `store: {field}`: said instead of asking when the person’s field already has a value')),
  otherwise: Type.Optional(Text('Re-prompt when the answer matches no choice')),
  max_reprompts: Type.Optional(Type.Integer({ minimum: 0, maximum: 10, description: 'Re-prompts before the fallback (default 2)' })),
  fallback: Type.Optional(Type.Object({
    say: Type.Optional(Text('Said when the re-prompts are used up')),
    next: Type.Optional(ThreadName('Thread to continue in')),
    end: Type.Optional(Type.Boolean()),
  }, { additionalProperties: false, description: 'What happens when the re-prompts are used up (default: go on with the next step)' })),
}, { additionalProperties: false })
const NextStep = Type.Object({ next: ThreadName('Continue in this thread') }, { additionalProperties: false })
const CheckinStep = Type.Object({
  checkin: Type.Object({
    after: Type.Optional(Duration),
    at: Type.Optional(LocalTime),
    thread: ThreadName('Thread the check-in sends'),
  }, { additionalProperties: false, description: 'Schedule a thread `after` a duration and/or `at` a local time (both: that time of day once the duration has passed)' }),
}, { additionalProperties: false })
const AutopingStep = Type.Object({
  autoping: Type.Union([
    Type.Object({ after: Duration, thread: ThreadName('Thread that re-engages the person') }, { additionalProperties: false }),
    Type.Literal(false),
  ], { description: 'Re-engage the person with `thread` after `after` of silence while the bot waits for an answer; false turns it off' }),
}, { additionalProperties: false })
const EndStep = Type.Object({ end: Type.Union([Type.Literal(true), Text('Closing text')]) }, { additionalProperties: false })

/** Every kind of step, keyed by the property that names it. */
export const STEP_KINDS = { say: SayStep, ask: AskStep, next: NextStep, checkin: CheckinStep, autoping: AutopingStep, end: EndStep } as const
export type StepKind = keyof typeof STEP_KINDS

export type SayStep = Static<typeof SayStep>
export type AskStep = Static<typeof AskStep>
export type NextStep = Static<typeof NextStep>
export type CheckinStep = Static<typeof CheckinStep>
export type AutopingStep = Static<typeof AutopingStep>
export type EndStep = Static<typeof EndStep>
export type Choice = Static<typeof Choice>
export type Step = SayStep | AskStep | NextStep | CheckinStep | AutopingStep | EndStep

const Thread = Type.Object({
  description: Type.Optional(Type.String({ maxLength: 2000 })),
  steps: Type.Array(Type.Union(Object.values(STEP_KINDS) as TSchema[]), { minItems: 1, maxItems: 500 }),
}, { additionalProperties: false })

/** The thread file, as `GET /schemas/threads.json` publishes it. */
export const ThreadsDocumentSchema = Type.Object({
  $schema: Type.Optional(Type.String()),
  default_thread: Type.Optional(ThreadName('Thread started when a person with no conversation writes in (default: no answer)')),
  threads: Type.Record(Type.String({ pattern: THREAD_NAME }), Thread, { minProperties: 1 }),
}, {
  additionalProperties: false,
  $id: 'https://switchboard.local/schemas/threads.json',
  title: 'Switchboard bot threads',
  description: 'A tenant’s bot content: named threads of steps. Each step has exactly one of say, ask, next, checkin, autoping, end.',
})

export interface Thread {
  readonly description?: string
  readonly steps: readonly Step[]
}

/** A validated thread file. */
export interface ThreadsDocument {
  readonly default_thread?: string
  readonly threads: Readonly<Record<string, Thread>>
}

/** `GET /schemas/threads.json`: the JSON Schema (2020-12) of a thread file. */
export function threadsJsonSchema(): Record<string, unknown> {
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', ...JSON.parse(JSON.stringify(ThreadsDocumentSchema)) }
}

// The document's outline (steps as plain objects) and each step kind are checked separately, so
// an error names the step and the property at fault instead of "matches no branch of anyOf".
const Outline = Type.Object({
  $schema: Type.Optional(Type.String()),
  default_thread: Type.Optional(ThreadName('')),
  threads: Type.Record(Type.String(), Type.Object({
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    steps: Type.Array(Type.Object({}, { additionalProperties: true }), { minItems: 1, maxItems: 500 }),
  }, { additionalProperties: false }), { minProperties: 1 }),
}, { additionalProperties: false })
let compiled: { outline: Validator; steps: Record<StepKind, Validator> } | undefined
function validators() {
  compiled ??= {
    outline: Compile(Outline) as unknown as Validator,
    steps: Object.fromEntries(Object.entries(STEP_KINDS).map(([k, s]) => [k, Compile(s) as unknown as Validator])) as Record<StepKind, Validator>,
  }
  return compiled
}

/** How the thread file words the pattern problems the generic description would leave vague. */
function threadsSpecial(where: string, issue: SchemaIssue): string | undefined {
  if (issue.keyword !== 'pattern') return undefined
  if (where.endsWith('.after')) return `${where}: not a duration (use 30m, 2h, 1d, 1w)`
  if (where.endsWith('.at')) return `${where}: not a local time HH:MM`
  return `${where}: must be a name of letters, digits, _ . - (at most 100)`
}

const describe = (base: string, issue: SchemaIssue) => describeIssue(base, issue, threadsSpecial)

/**
 * Check a parsed thread file: its shape against the schema, then what a schema cannot say (every
 * thread a step names exists, durations and times parse, keywords do not repeat). Returns the
 * validated document or every problem found, each as `path: problem`.
 */
export function validateThreadsDocument(doc: unknown, builtinNames: readonly string[]): { ok: true; document: ThreadsDocument } | { ok: false; errors: string[] } {
  const { outline, steps: stepValidators } = validators()
  const errors: string[] = []
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return { ok: false, errors: ['(document): must be an object with "threads"'] }
  const outlineIssues = schemaIssues(outline, doc)
  if (outlineIssues.length > 0) return { ok: false, errors: dedupe(outlineIssues.map((e) => describe('', e))) }
  const d = doc as { default_thread?: string; threads: Record<string, { steps: Array<Record<string, unknown>> }> }
  const names = new Set([...Object.keys(d.threads), ...builtinNames])
  const ref = (path: string, name: unknown) => {
    if (typeof name === 'string' && !names.has(name)) errors.push(`${path}: unknown thread "${name}"`)
  }
  for (const name of Object.keys(d.threads)) {
    if (!new RegExp(THREAD_NAME).test(name)) errors.push(`threads.${name}: a thread name is letters, digits, _ . - (at most 100)`)
    if (builtinNames.includes(name)) errors.push(`threads.${name}: ${name} is a built-in thread and cannot be redefined`)
    if (name === '__proto__') errors.push('threads.__proto__: __proto__ is reserved and cannot name a thread')
  }
  if (d.default_thread !== undefined) ref('default_thread', d.default_thread)
  for (const [name, thread] of Object.entries(d.threads)) {
    thread.steps.forEach((step, i) => {
      const path = `threads.${name}.steps[${i}]`
      const kinds = (Object.keys(STEP_KINDS) as StepKind[]).filter((k) => k in step)
      if (kinds.length !== 1) {
        errors.push(`${path}: a step has exactly one of say, ask, next, checkin, autoping, end${kinds.length > 1 ? ` (found ${kinds.join(', ')})` : ''}`)
        return
      }
      const kind = kinds[0]!
      const issues = schemaIssues(stepValidators[kind], step)
      if (issues.length > 0) {
        errors.push(...issues.map((e) => describe(path, e)))
        return
      }
      semanticChecks(kind, step, path, ref, errors)
    })
  }
  if (errors.length > 0) return { ok: false, errors: dedupe(errors) }
  return { ok: true, document: normalise(d as unknown as ThreadsDocument) }
}

function semanticChecks(kind: StepKind, step: Record<string, unknown>, path: string, ref: (p: string, n: unknown) => void, errors: string[]): void {
  if (kind === 'next') ref(`${path}.next`, step.next)
  if (kind === 'checkin') {
    const c = step.checkin as CheckinStep['checkin']
    if (c.after === undefined && c.at === undefined) errors.push(`${path}.checkin: needs "after", "at" or both`)
    if (c.after !== undefined && parseDuration(c.after) === undefined) errors.push(`${path}.checkin.after: not a duration (use 30m, 2h, 1d, 1w)`)
    if (c.at !== undefined && parseLocalTime(c.at) === undefined) errors.push(`${path}.checkin.at: not a local time HH:MM`)
    ref(`${path}.checkin.thread`, c.thread)
  }
  if (kind === 'autoping' && step.autoping !== false) {
    const a = step.autoping as { after: string; thread: string }
    if (parseDuration(a.after) === undefined || parseDuration(a.after) === 0) errors.push(`${path}.autoping.after: not a duration (use 30m, 2h, 1d, 1w)`)
    ref(`${path}.autoping.thread`, a.thread)
  }
  if (kind === 'ask') {
    const a = step as unknown as AskStep
    if (a.choices && a.store) errors.push(`${path}: an ask has either choices or store, not both`)
    if (a.if_set && !(a.store && 'field' in a.store)) errors.push(`${path}.if_set: needs store: {field: …}`)
    if (a.fallback?.next !== undefined) ref(`${path}.fallback.next`, a.fallback.next)
    const seen = new Map<string, number>()
    a.choices?.forEach((c, j) => {
      if (c.next !== undefined) ref(`${path}.choices[${j}].next`, c.next)
      if (c.next !== undefined && c.end) errors.push(`${path}.choices[${j}]: has both next and end`)
      for (const m of typeof c.match === 'string' ? [c.match] : c.match) {
        const key = normaliseAnswerKey(m)
        if (key === '') errors.push(`${path}.choices[${j}].match: "${m}" has no letters or digits`)
        const other = seen.get(key)
        if (other !== undefined && other !== j) errors.push(`${path}.choices[${j}].match: "${m}" also matches choices[${other}]`)
        seen.set(key, j)
      }
    })
  }
}

/** Lower case, accents and punctuation off, spaces collapsed: how answers and keywords compare. */
export function normaliseAnswerKey(text: string): string {
  return text.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ').trim()
}

function normalise(doc: ThreadsDocument): ThreadsDocument {
  const threads = Object.fromEntries(Object.entries(doc.threads).map(([name, t]): [string, Thread] => [name, {
      ...(t.description !== undefined ? { description: t.description } : {}),
      steps: t.steps.map((s) => ('ask' in s && s.choices
        ? { ...s, choices: s.choices.map((c) => ({ ...c, match: typeof c.match === 'string' ? [c.match] : c.match })) }
        : s)),
  }]))
  return { ...(doc.default_thread !== undefined ? { default_thread: doc.default_thread } : {}), threads }
}

function dedupe(list: string[]): string[] {
  return dedupeProblems(list)
}
