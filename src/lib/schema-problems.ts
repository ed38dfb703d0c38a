import { parse as parseYaml, YAMLParseError } from 'yaml'
import type { Validator } from 'typebox/compile'

/**
 * Setup files (threads, the contact center) report every problem on its own line as `path: problem`,
 * where the path is written the way a person reads the file: `menus[0].children[2].teams[1]`. These
 * helpers turn a TypeBox validator's issues into such lines.
 */

/** One issue as the TypeBox validator reports it. */
export interface SchemaIssue { keyword: string; instancePath: string; message: string; params: Record<string, unknown> }

/** `/threads/a/steps/2/choices/0/next` under `base` → `base.threads.a.steps[2].choices[0].next`. */
export function dottedPath(base: string, pointer: string): string {
  let out = base
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    out += /^\d+$/.test(seg) ? `[${seg}]` : out === '' ? seg : `.${seg}`
  }
  return out || '(document)'
}

/** The validator's issues, without the noise typebox adds beside the real one (`boolean`, `anyOf`). */
export function schemaIssues(v: Validator, value: unknown): SchemaIssue[] {
  return ([...v.Errors(value)] as unknown as SchemaIssue[]).filter((e) => e.keyword !== 'boolean' && e.keyword !== 'anyOf')
}

/**
 * An issue as a line: unknown and missing properties named, the rest with the validator's message.
 * `special` may word an issue itself (a pattern that means "a duration", say); undefined falls back.
 */
export function describeIssue(base: string, issue: SchemaIssue, special?: (where: string, issue: SchemaIssue) => string | undefined): string {
  const where = dottedPath(base, issue.instancePath)
  const own = special?.(where, issue)
  if (own !== undefined) return own
  if (issue.keyword === 'additionalProperties') {
    const extra = (issue.params.additionalProperties as string[] | undefined)?.[0]
    return `${where}${extra ? `.${extra}` : ''}: unknown property${extra ? ` "${extra}"` : ''}`
  }
  if (issue.keyword === 'required') {
    const missing = (issue.params.requiredProperties as string[] | undefined)?.[0] ?? (issue.params.missingProperty as string | undefined)
    return `${where}: missing ${missing ? `"${missing}"` : 'a required property'}`
  }
  return `${where}: ${issue.message}`
}

/** The first `max` distinct lines, in order. */
export function dedupeProblems(list: readonly string[], max = 50): string[] {
  return [...new Set(list)].slice(0, max)
}

/**
 * Parse a setup file's text (YAML, or JSON when `format` is `json`) into a value, or the one
 * problem that stops it, worded like the others (`(document) line 3, column 5: …`). `what` names
 * the file in the messages ("the thread file").
 */
export function parseSetupText(source: string, format: 'yaml' | 'json' | undefined, what: string, maxBytes: number): { ok: true; value: unknown } | { ok: false; problem: string } {
  if (typeof source !== 'string' || source.trim() === '') return { ok: false, problem: `(document): ${what} is empty` }
  if (source.length > maxBytes) return { ok: false, problem: `(document): ${what} is larger than ${maxBytes} bytes` }
  if (source.includes('\u0000')) return { ok: false, problem: `(document): ${what} contains a NUL character` }
  try {
    return { ok: true, value: format === 'json' ? JSON.parse(source) : parseYaml(source, { maxAliasCount: 100, uniqueKeys: true }) }
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const pos = err.linePos?.[0]
      return { ok: false, problem: `(document)${pos ? ` line ${pos.line}, column ${pos.col}` : ''}: ${err.message.split('\n')[0]}` }
    }
    return { ok: false, problem: `(document): ${(err as Error).message}` }
  }
}
