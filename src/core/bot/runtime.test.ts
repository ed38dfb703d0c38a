import { describe, expect, it } from 'vitest'
import { BUILTIN_THREADS } from './builtin-threads.ts'
import { matchChoice } from './match.ts'
import { placeholdersIn, renderText } from './render.ts'
import { answerConversation, startConversation, EXTERNAL_ID_TAKEN_TEXT, type Effect, type RunContext } from './runtime.ts'
import { parseThreads } from './threads.service.ts'
import type { Choice } from './threads.schema.ts'

describe('renderText', () => {
  const person = { first_name: 'Zoë', external_id: 'E-1', external_data_2: 'room 4' }
  it('fills the spec’s person placeholders, ping placeholders and variables, case-insensitively', () => {
    const r = renderText('Hi <<NAME>> (<<external_id>>, <<ED2>>): <<Appointment>> at <<time>>', { person, placeholders: { APPOINTMENT: 'Dr Who' }, variables: { Time: '10:00' } })
    expect(r).toEqual({ text: 'Hi Zoë (E-1, room 4): Dr Who at 10:00', missing: [] })
  })
  it('renders unset person fields empty and reports unknown placeholders', () => {
    expect(renderText('Hi <<NAME>><<ED1>>, <<X>> <<x>>', { person: {} })).toEqual({ text: 'Hi ,  ', missing: ['X'] })
  })
  it('ping placeholders win over variables; text without placeholders is unchanged', () => {
    expect(renderText('<<A>>', { person, placeholders: { a: 'ping' }, variables: { a: 'var' } }).text).toBe('ping')
    expect(renderText('a < b >> c <<>>', { person }).text).toBe('a < b >> c <<>>')
  })
  it('lists placeholders in order of first use', () => {
    expect(placeholdersIn('<<b>> <<A>> << b >>')).toEqual(['B', 'A'])
  })
})

describe('matchChoice', () => {
  const choices: Choice[] = [
    { match: ['yes', 'yeah', 'oui'], label: 'Yes please' },
    { match: ['no', 'non'] },
    { match: ['not sure'] },
  ]
  it.each([
    ['YES', 0], ['  Yeah! ', 0], ['Oui.', 0], ['yes please', 0], ['1', 0], ['#2', 1], ['3', 2],
    ['NÓN', 1], ['Not   Sure', 2], ['well, not sure really', 2], ['Yes Please', 0],
  ])('%j picks choice %i', (answer, index) => expect(matchChoice(answer, choices)).toBe(index))
  it.each(['', '4', '0', 'maybe', 'yes or no', '!!!'])('%j picks none', (answer) => expect(matchChoice(answer, choices)).toBeUndefined())
  it('an explicit keyword beats a position', () => {
    expect(matchChoice('2', [{ match: ['1', 'a'] }, { match: ['b'] }, { match: ['2'] }])).toBe(2)
  })
})

const doc = parseThreads(`
threads:
  start:
    steps:
      - say: "Hi <<NAME>>"
      - ask: "Good or bad?"
        choices:
          - { match: [good], say: "Great", set: { mood: good } }
          - { match: [bad], next: support }
        otherwise: "Reply good or bad"
        max_reprompts: 1
        fallback: { say: "Moving on" }
      - ask: "Your name?"
        store: { field: first_name }
        confirm: "Thanks <<NAME>>, mood <<mood>>"
      - checkin: { after: 1d, at: "09:00", thread: support }
      - autoping: { after: 2h, thread: support }
      - ask: "Anything else?"
        store: { var: note }
      - end: "Bye <<note>>"
  support:
    steps:
      - say: "Support here"
`)
const ctx = (person = {}): RunContext => ({ thread: (n) => doc.threads[n] ?? BUILTIN_THREADS[n], person })
const texts = (r: { effects: readonly Effect[] }) => r.effects.flatMap((e) => (e.type === 'send' ? [e.text] : []))

describe('the state machine', () => {
  it('runs says until the first ask, then waits for a choice with quick replies', () => {
    const r = startConversation('start', ctx({ first_name: 'Ann' }))
    expect(texts(r)).toEqual(['Hi Ann', 'Good or bad?'])
    expect(r.effects[1]).toMatchObject({ quickReplies: ['good', 'bad'], threadName: 'start', step: 1 })
    expect(r.state).toMatchObject({ step: 1, awaiting: 'choice', status: 'active' })
  })
  it('re-prompts, then falls back and goes on', () => {
    const s0 = startConversation('start', ctx()).state
    const r1 = answerConversation(s0, 'meh', ctx())
    expect(texts(r1)).toEqual(['Reply good or bad'])
    expect(r1.state).toMatchObject({ step: 1, reprompts: 1, awaiting: 'choice' })
    const r2 = answerConversation(r1.state, 'still meh', ctx())
    expect(texts(r2)).toEqual(['Moving on', 'Your name?'])
    expect(r2.state).toMatchObject({ step: 2, reprompts: 0, awaiting: 'text' })
  })
  it('a choice says, sets variables, stores free text and schedules a check-in, then ends', () => {
    const s0 = startConversation('start', ctx()).state
    const r1 = answerConversation(s0, 'GOOD', ctx())
    expect(texts(r1)).toEqual(['Great', 'Your name?'])
    const r2 = answerConversation(r1.state, '  Béa ', ctx())
    expect(r2.effects).toEqual([
      { type: 'store_field', field: 'first_name', value: 'Béa' },
      { type: 'send', text: 'Thanks Béa, mood good', threadName: 'start', step: 2 },
      { type: 'checkin', threadName: 'support', after: '1d', at: '09:00', fromThread: 'start', step: 3 },
      { type: 'send', text: 'Anything else?', threadName: 'start', step: 5 },
    ])
    expect(r2.state.autoping).toEqual({ after: '2h', thread: 'support' })
    const r3 = answerConversation(r2.state, 'no', ctx({ first_name: 'Béa' }))
    expect(texts(r3)).toEqual(['Bye no'])
    expect(r3.state.status).toBe('ended')
  })
  it('a choice’s next switches thread; the end of a thread continues into thenThread', () => {
    const s0 = startConversation('start', ctx(), { thenThread: 'support' }).state
    const r = answerConversation(s0, 'bad', ctx())
    // support finishes; thenThread is support too, so it runs once more and then ends.
    expect(texts(r)).toEqual(['Support here', 'Support here'])
    expect(r.state.status).toBe('ended')
  })
  it('ping messages replace the opening; is_auto_next continues without waiting', () => {
    const r = startConversation('start', ctx(), { messages: ['Custom 1', 'Custom 2'] })
    expect(texts(r)).toEqual(['Custom 1', 'Custom 2'])
    expect(r.effects[1]).toMatchObject({ quickReplies: ['good', 'bad'] })
    expect(r.state.awaiting).toBe('choice')
    const auto = startConversation('start', ctx(), { messages: ['Reminder'], thenThread: 'support', autoNext: true })
    expect(texts(auto)).toEqual(['Reminder', 'Support here'])
    expect(auto.state.status).toBe('ended')
  })
  it('STORE_EXT_ID stores once, refuses a taken id, and never changes a set one', () => {
    const r = startConversation('STORE_EXT_ID', ctx())
    expect(texts(r)).toEqual(['Please reply with your ID.'])
    const taken = answerConversation(r.state, 'A-1', ctx(), { storeRejected: 'taken' })
    expect(texts(taken)).toEqual([EXTERNAL_ID_TAKEN_TEXT])
    const stored = answerConversation(taken.state, 'A-2', ctx())
    expect(stored.effects[0]).toEqual({ type: 'store_field', field: 'external_id', value: 'A-2' })
    expect(texts(stored)).toEqual(['Thank you, your ID A-2 is saved.'])
    const already = startConversation('STORE_EXT_ID', ctx({ external_id: 'X-9' }))
    expect(texts(already)).toEqual(['Your ID is already on file (X-9). It can’t be changed here, but thank you!'])
    expect(already.state.status).toBe('ended')
  })
  it('stops a loop of next jumps', () => {
    const loop = parseThreads('threads: { a: { steps: [ { next: b } ] }, b: { steps: [ { next: a } ] } }')
    const r = startConversation('a', { thread: (n) => loop.threads[n], person: {} })
    expect(r.state.status).toBe('ended')
    expect(r.problem).toMatch(/loop/)
  })
})

describe('parseThreads', () => {
  const errorsOf = (source: string, format?: 'json') => {
    try {
      parseThreads(source, format)
    } catch (err) {
      return (err as { details: { errors: string[] } }).details.errors
    }
    throw new Error('expected invalid')
  }
  it('points at the thread and step of an unknown thread', () => {
    expect(errorsOf(`threads:
  good_thread:
    steps:
      - say: hi
      - say: there
      - ask: "1 or 2"
        choices:
          - { match: ["1"], next: wrap_upp }
  wrap_up: { steps: [ { end: true } ] }`)).toEqual(['threads.good_thread.steps[2].choices[0].next: unknown thread "wrap_upp"'])
  })
  it('reports shape problems by path', () => {
    expect(errorsOf('threads: { a: { steps: [ { say: hi, ask: x } ] } }')).toEqual(['threads.a.steps[0]: a step has exactly one of say, ask, next, checkin, autoping, end (found say, ask)'])
    expect(errorsOf('threads: { a: { steps: [ { say: hi, colour: red } ] } }')).toEqual(['threads.a.steps[0].colour: unknown property "colour"'])
    expect(errorsOf('threads: { a: { steps: [ { checkin: { after: 1 fortnight, thread: a } } ] } }')).toEqual(['threads.a.steps[0].checkin.after: not a duration (use 30m, 2h, 1d, 1w)'])
    expect(errorsOf('threads: { a: { steps: [ { checkin: { at: "25:00", thread: a } } ] } }')).toEqual(['threads.a.steps[0].checkin.at: not a local time HH:MM'])
    expect(errorsOf('threads: { a: { steps: [ { ask: q, store: { field: password } } ] } }')[0]).toMatch(/^threads\.a\.steps\[0\]\.store/)
    expect(errorsOf('threads: { a: { steps: [ { ask: q, choices: [ { match: Yes }, { match: "YES!" } ] } ] } }')).toEqual(['threads.a.steps[0].choices[1].match: "YES!" also matches choices[0]'])
    expect(errorsOf('threads: { STORE_EXT_ID: { steps: [ { say: x } ] } }')).toEqual(['threads.STORE_EXT_ID: STORE_EXT_ID is a built-in thread and cannot be redefined'])
    expect(errorsOf('threads: {}')[0]).toMatch(/^threads/)
    expect(errorsOf('threads: [a')[0]).toMatch(/^\(document\) line 1/)
    expect(errorsOf('{"threads": ', 'json')[0]).toMatch(/^\(document\)/)
    expect(errorsOf('')).toEqual(['(document): the thread file is empty'])
  })
})
