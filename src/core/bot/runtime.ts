import { choiceLabel, matchChoice } from './match.ts'
import { renderText, type PersonValues } from './render.ts'
import type { AskStep, Choice, StorableField, Thread } from './threads.schema.ts'

/**
 * The bot's state machine, pure: given a conversation's state, the thread content and an event
 * (start, or the person's answer), it returns the new state and the effects to carry out (messages
 * to send, fields to store, check-ins to schedule). The service applies the effects in the same
 * transaction that saves the state. Nothing here does I/O.
 *
 * States: running (executing steps) → waiting for a choice or free text (an `ask`) → running … →
 * ended. `say`, `checkin`, `autoping` run and move on; `next` switches thread; an `ask` sends its
 * question and waits; the end of a thread (or `end`) continues into `thenThread` when one is set
 * (a ping's next_thread_name), else ends the conversation.
 */

export interface ConversationState {
  readonly threadName: string
  readonly step: number
  readonly awaiting: 'none' | 'choice' | 'text'
  readonly reprompts: number
  readonly variables: Readonly<Record<string, string>>
  readonly placeholders: Readonly<Record<string, string>>
  readonly thenThread: string | null
  readonly autoping: { readonly after: string; readonly thread: string } | null
  readonly status: 'active' | 'ended'
}

export type Effect =
  | { readonly type: 'send'; readonly text: string; readonly quickReplies?: readonly string[]; readonly threadName: string; readonly step: number }
  | { readonly type: 'store_field'; readonly field: StorableField; readonly value: string }
  | { readonly type: 'checkin'; readonly threadName: string; readonly after?: string; readonly at?: string; readonly fromThread: string; readonly step: number }

export interface RunContext {
  /** The thread of a name in the conversation's content version (built-ins included). */
  readonly thread: (name: string) => Thread | undefined
  readonly person: PersonValues
}

export interface RunResult {
  readonly state: ConversationState
  readonly effects: readonly Effect[]
  /** Placeholders that rendered empty because nothing supplied them. */
  readonly missing: readonly string[]
  /** Why the run stopped early, if it did (unknown thread, a loop of jumps). */
  readonly problem?: string
}

/** Steps one event may run before the machine assumes a loop of `next` jumps and stops. */
export const MAX_STEPS_PER_EVENT = 200
const DEFAULT_MAX_REPROMPTS = 2
/** Said when an external_id answer belongs to another person. */
export const EXTERNAL_ID_TAKEN_TEXT = 'Sorry, that ID is already in use by someone else. Please check it and reply again.'

export interface StartOptions {
  /** Sent instead of the thread's opening: its leading `say` steps and the first `ask`'s question. */
  readonly messages?: readonly string[]
  /** After the opening, continue into `thenThread` at once instead of waiting for an answer. */
  readonly autoNext?: boolean
  readonly thenThread?: string | null
  readonly placeholders?: Readonly<Record<string, string>>
  readonly variables?: Readonly<Record<string, string>>
  readonly autoping?: ConversationState['autoping']
}

/** A fresh conversation in `threadName`, run until it waits or ends. */
export function startConversation(threadName: string, ctx: RunContext, opts: StartOptions = {}): RunResult {
  const state: ConversationState = {
    threadName, step: 0, awaiting: 'none', reprompts: 0,
    variables: opts.variables ?? {}, placeholders: opts.placeholders ?? {},
    thenThread: opts.thenThread ?? null, autoping: opts.autoping ?? null, status: 'active',
  }
  return new Run(ctx, state, opts).execute()
}

/**
 * The person answered. `storeRejected` tells the machine that the free-text answer could not be
 * stored (an external_id another person has), which the service checked beforehand.
 */
export function answerConversation(state: ConversationState, text: string, ctx: RunContext, opts: { storeRejected?: 'taken' } = {}): RunResult {
  return new Run(ctx, state, {}).answer(text, opts.storeRejected)
}

/** The `ask` the conversation waits on, if it waits. */
export function currentAsk(state: ConversationState, ctx: Pick<RunContext, 'thread'>): AskStep | undefined {
  if (state.status !== 'active' || state.awaiting === 'none') return undefined
  const step = ctx.thread(state.threadName)?.steps[state.step]
  return step && 'ask' in step ? step : undefined
}

class Run {
  readonly #ctx: RunContext
  #state: ConversationState
  readonly #effects: Effect[] = []
  readonly #missing: string[] = []
  #person: PersonValues
  #opening: readonly string[] | undefined
  #autoNext: boolean
  #problem: string | undefined
  #budget = MAX_STEPS_PER_EVENT

  constructor(ctx: RunContext, state: ConversationState, opts: StartOptions) {
    this.#ctx = ctx
    this.#state = state
    this.#person = ctx.person
    this.#opening = opts.messages && opts.messages.length > 0 ? opts.messages : undefined
    this.#autoNext = opts.autoNext === true && state.thenThread !== null
  }

  #result(): RunResult {
    return { state: this.#state, effects: this.#effects, missing: this.#missing, ...(this.#problem ? { problem: this.#problem } : {}) }
  }

  #set(patch: Partial<ConversationState>) {
    this.#state = { ...this.#state, ...patch }
  }

  #say(text: string, quickReplies?: readonly string[]) {
    const r = renderText(text, { person: this.#person, placeholders: this.#state.placeholders, variables: this.#state.variables })
    for (const m of r.missing) if (!this.#missing.includes(m)) this.#missing.push(m)
    if (r.text.trim() === '') return
    this.#effects.push({ type: 'send', text: r.text, ...(quickReplies && quickReplies.length > 0 ? { quickReplies } : {}), threadName: this.#state.threadName, step: this.#state.step })
  }

  /** Send the ping's own messages in place of the opening (once). */
  #flushOpening(quickReplies?: readonly string[]) {
    const messages = this.#opening
    if (!messages) return false
    this.#opening = undefined
    messages.forEach((m, i) => this.#say(m, i === messages.length - 1 ? quickReplies : undefined))
    return true
  }

  #end() {
    this.#flushOpening()
    this.#set({ status: 'ended', awaiting: 'none', reprompts: 0 })
  }

  #jump(threadName: string) {
    this.#set({ threadName, step: 0, awaiting: 'none', reprompts: 0 })
  }

  /** The current thread is done: continue into the pending thread, or end. */
  #finishThread() {
    if (this.#state.thenThread) {
      const next = this.#state.thenThread
      this.#set({ thenThread: null })
      this.#jump(next)
    } else this.#end()
  }

  execute(): RunResult {
    while (this.#state.status === 'active') {
      if (--this.#budget < 0) {
        this.#problem = `more than ${MAX_STEPS_PER_EVENT} steps without waiting for the person (a loop of next?)`
        this.#end()
        break
      }
      const thread = this.#ctx.thread(this.#state.threadName)
      if (!thread) {
        this.#problem = `unknown thread "${this.#state.threadName}"`
        this.#end()
        break
      }
      const step = thread.steps[this.#state.step]
      if (!step) {
        this.#finishThread()
        continue
      }
      const advance = () => this.#set({ step: this.#state.step + 1 })
      if ('say' in step) {
        if (!this.#opening) this.#say(step.say)
        advance()
      } else if ('ask' in step) {
        const field = step.store && 'field' in step.store ? step.store.field : undefined
        if (field && step.if_set && nonEmpty(this.#person[field])) {
          this.#flushOpening()
          this.#say(step.if_set)
          advance()
          continue
        }
        const quickReplies = step.choices?.map(choiceLabel)
        if (!this.#flushOpening(quickReplies)) this.#say(step.ask, quickReplies)
        this.#set({ awaiting: step.choices ? 'choice' : 'text', reprompts: 0 })
        if (this.#autoNext) {
          // is_auto_next: the opening is out; go on into next_thread_name without waiting.
          this.#autoNext = false
          const next = this.#state.thenThread!
          this.#set({ thenThread: null })
          this.#jump(next)
          continue
        }
        break
      } else {
        this.#flushOpening()
        if ('next' in step) this.#jump(step.next)
        else if ('checkin' in step) {
          const c = step.checkin
          this.#effects.push({
            type: 'checkin', threadName: c.thread, ...(c.after !== undefined ? { after: c.after } : {}), ...(c.at !== undefined ? { at: c.at } : {}),
            fromThread: this.#state.threadName, step: this.#state.step,
          })
          advance()
        } else if ('autoping' in step) {
          this.#set({ autoping: step.autoping === false ? null : { after: step.autoping.after, thread: step.autoping.thread } })
          advance()
        } else if ('end' in step) {
          if (typeof step.end === 'string') this.#say(step.end)
          this.#set({ step: thread.steps.length })
          this.#finishThread()
        }
      }
    }
    if (this.#state.status === 'ended') this.#flushOpening()
    // Only the first wait of a start may skip ahead.
    this.#autoNext = false
    return this.#result()
  }

  answer(text: string, storeRejected: 'taken' | undefined): RunResult {
    const ask = currentAsk(this.#state, this.#ctx)
    if (!ask) return this.#result()
    const answer = text.trim()
    if (ask.choices) {
      const index = matchChoice(answer, ask.choices)
      if (index === undefined) return this.#reprompt(ask)
      return this.#choose(ask.choices[index]!)
    }
    if (ask.store && 'field' in ask.store) {
      if (storeRejected === 'taken') return this.#reprompt(ask, EXTERNAL_ID_TAKEN_TEXT)
      if (ask.store.field === 'external_id' && nonEmpty(this.#person.external_id)) {
        // Set meanwhile (another channel, the API): external_id never changes.
        if (ask.if_set) this.#say(ask.if_set)
      } else if (answer !== '') {
        const value = answer.slice(0, 1000)
        this.#effects.push({ type: 'store_field', field: ask.store.field, value })
        this.#person = { ...this.#person, [ask.store.field]: value }
        if (ask.confirm) this.#say(ask.confirm)
      }
    } else {
      if (ask.store && 'var' in ask.store) this.#set({ variables: { ...this.#state.variables, [ask.store.var]: answer.slice(0, 2000) } })
      if (ask.confirm) this.#say(ask.confirm)
    }
    this.#set({ step: this.#state.step + 1, awaiting: 'none', reprompts: 0 })
    return this.execute()
  }

  #choose(choice: Choice): RunResult {
    if (choice.set) this.#set({ variables: { ...this.#state.variables, ...choice.set } })
    if (choice.say) this.#say(choice.say)
    if (choice.next !== undefined) this.#jump(choice.next)
    else if (choice.end) {
      this.#set({ awaiting: 'none' })
      this.#finishThread()
    } else this.#set({ step: this.#state.step + 1, awaiting: 'none', reprompts: 0 })
    return this.execute()
  }

  #reprompt(ask: AskStep, text?: string): RunResult {
    const max = ask.max_reprompts ?? DEFAULT_MAX_REPROMPTS
    if (this.#state.reprompts < max) {
      const quickReplies = ask.choices?.map(choiceLabel)
      this.#say(text ?? ask.otherwise ?? `Sorry, I didn't understand that. ${ask.ask}`, quickReplies)
      this.#set({ reprompts: this.#state.reprompts + 1 })
      return this.#result()
    }
    const fallback = ask.fallback
    if (fallback?.say) this.#say(fallback.say)
    if (fallback?.next !== undefined) this.#jump(fallback.next)
    else if (fallback?.end) {
      this.#set({ awaiting: 'none' })
      this.#finishThread()
    } else this.#set({ step: this.#state.step + 1, awaiting: 'none', reprompts: 0 })
    return this.execute()
  }
}

function nonEmpty(v: string | null | undefined): boolean {
  return v !== null && v !== undefined && v !== ''
}
