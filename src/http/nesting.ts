import { Parser } from 'yaml'

/**
 * The deepest nesting a request body may have. Our bodies are a few levels deep (a thread file
 * about eight); a bound keeps recursive code (serialisers, validators, YAML composition) from
 * overflowing the stack or, for YAML, exhausting memory on a document of 100,000 levels.
 */
export const MAX_BODY_DEPTH = 64

/** Whether JSON text nests arrays and objects deeper than `max` (one pass, strings skipped). */
export function jsonTooDeep(text: string, max = MAX_BODY_DEPTH): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  return false
}

const COLLECTIONS = new Set(['block-map', 'block-seq', 'flow-collection'])

/**
 * Whether YAML text nests collections deeper than `max`. Reads the concrete syntax tree of the
 * `yaml` package, whose parser keeps its own stack (no recursion), walking it without recursion
 * either; composing a too-deep document is what must not happen.
 */
export function yamlTooDeep(text: string, max = MAX_BODY_DEPTH): boolean {
  const stack: Array<[unknown, number]> = []
  for (const token of new Parser().parse(text)) stack.push([token, 0])
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!
    if (node === null || typeof node !== 'object') continue
    const n = node as { type?: string; value?: unknown; key?: unknown; items?: unknown[] }
    const here = COLLECTIONS.has(n.type ?? '') ? depth + 1 : depth
    if (here > max) return true
    if (n.value !== undefined) stack.push([n.value, here])
    if (n.key !== undefined) stack.push([n.key, here])
    if (Array.isArray(n.items)) for (const item of n.items) stack.push([item, here])
  }
  return false
}
