import { Liquid, type FS, type Template } from 'liquidjs'

/**
 * The Liquid engines templates are written for. A template file comes from a tenant's operator over
 * the admin API, so the engines are closed off: no file system (the tags that read files —
 * `include`, `render`, `layout` — do not exist, and the loader refuses every path), filters and
 * variables strict (a misspelt filter is a load-time problem; a variable the data lacks is a
 * render error rather than a blank, except in `if`/`unless` and `default`), own properties only
 * (no `constructor`, no prototype), and each render bounded in time, memory and output length.
 */
export const LIQUID_LIMITS = {
  /** Longest text of a template (characters of Liquid source). */
  maxSourceLength: 20_000,
  /** Longest rendered text (characters); a longer one is a render error. */
  maxOutputLength: 64 * 1024,
  /** Milliseconds one text may take to render. */
  renderMs: 250,
  /** Liquid's allocation budget of one render (string lengths and array sizes it counts). */
  memory: 1_000_000,
} as const

const noFiles = (): never => {
  throw new Error('templates cannot read files')
}
/** The loader of the engines: there are no files. */
const NO_FS: FS = {
  exists: async () => false, existsSync: () => false, readFile: async () => noFiles(), readFileSync: noFiles, resolve: (_d, f) => f,
  contains: async () => false, containsSync: () => false,
}

function engine(html: boolean): Liquid {
  const liquid = new Liquid({
    fs: NO_FS, root: [], partials: [], layouts: [], relativeReference: false, cache: false,
    strictFilters: true, strictVariables: true, lenientIf: true, ownPropertyOnly: true,
    parseLimit: LIQUID_LIMITS.maxSourceLength, renderLimit: LIQUID_LIMITS.renderMs, memoryLimit: LIQUID_LIMITS.memory,
    // In an HTML body values are escaped (`{{ data.x | raw }}` when the data is HTML on purpose).
    ...(html ? { outputEscape: 'escape' as const } : {}),
  })
  for (const tag of ['include', 'render', 'layout']) delete (liquid.tags as Record<string, unknown>)[tag]
  return liquid
}

const engines = { text: engine(false), html: engine(true) }

/** Which engine a text is for: `html` (an email's HTML body) escapes output. */
export type TextKind = 'text' | 'html'

/** A compiled text. */
export interface CompiledText {
  readonly kind: TextKind
  readonly template: Template[]
}

/** Liquid's message without the stack of its context lines. */
const liquidMessage = (err: unknown) => `Liquid: ${String((err as Error).message ?? err).split('\n')[0]}`

/** Compile a text, or the problem that stops it (`Liquid: undefined filter: upcasee, line:1, col:4`). */
export function compile(text: string, kind: TextKind): { ok: true; compiled: CompiledText } | { ok: false; problem: string } {
  try {
    return { ok: true, compiled: { kind, template: engines[kind].parse(text) } }
  } catch (err) {
    return { ok: false, problem: liquidMessage(err) }
  }
}

/** The problem of a text that does not compile; undefined when it does. */
export function compileText(text: string, kind: TextKind): string | undefined {
  const r = compile(text, kind)
  return r.ok ? undefined : r.problem
}

/** Render a compiled text over `scope`; a failure is the problem, worded like a compile problem. */
export function renderText(compiled: CompiledText, scope: Record<string, unknown>): { ok: true; text: string } | { ok: false; problem: string } {
  let out: unknown
  try {
    out = engines[compiled.kind].renderSync(compiled.template, scope)
  } catch (err) {
    return { ok: false, problem: liquidMessage(err) }
  }
  const text = String(out)
  if (text.length > LIQUID_LIMITS.maxOutputLength) return { ok: false, problem: `renders longer than ${LIQUID_LIMITS.maxOutputLength} characters` }
  return { ok: true, text }
}
