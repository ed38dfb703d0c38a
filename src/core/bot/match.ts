import { normaliseAnswerKey, type Choice } from './threads.schema.ts'

/** The quick-reply text of a choice: its label, else its first keyword. */
export function choiceLabel(choice: Choice): string {
  return choice.label ?? (typeof choice.match === 'string' ? choice.match : choice.match[0]!)
}

function keywords(choice: Choice): string[] {
  const list = typeof choice.match === 'string' ? [choice.match] : [...choice.match]
  if (choice.label) list.push(choice.label)
  return list.map(normaliseAnswerKey).filter((k) => k !== '')
}

/**
 * Which choice an answer picks, by index; undefined when none or several could. In order: an
 * answer equal to a keyword or synonym (or the quick-reply label); the choice's position ("2");
 * then an answer that contains exactly one choice's keyword as whole words ("yes please").
 * Case, accents, punctuation and extra spaces never matter. Pure.
 */
export function matchChoice(answer: string, choices: readonly Choice[]): number | undefined {
  const key = normaliseAnswerKey(answer)
  if (key === '') return undefined
  const all = choices.map(keywords)
  const exact = all.findIndex((ks) => ks.includes(key))
  if (exact >= 0) return exact
  if (/^\d+$/.test(key)) {
    const n = Number(key)
    if (n >= 1 && n <= choices.length) return n - 1
  }
  const padded = ` ${key} `
  const hits = new Set<number>()
  all.forEach((ks, i) => {
    if (ks.some((k) => padded.includes(` ${k} `))) hits.add(i)
  })
  return hits.size === 1 ? [...hits][0] : undefined
}
