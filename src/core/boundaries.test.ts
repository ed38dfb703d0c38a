import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'

// Core domains depend on each other in one direction only: a cycle between two domains (tenants ↔
// delivery over the channel list, bot ↔ scheduling over thread content) makes their services
// impossible to build or test apart. Shared vocabulary lives in a file of core itself
// (`core/channels.ts`, `core/errors.ts`), and a domain that must call back up takes a port.
const CORE = new URL('.', import.meta.url).pathname

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : []
  })
}

/** Which other core domains each domain imports, from its non-test sources. */
function domainGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>()
  for (const domain of readdirSync(CORE).filter((d) => statSync(join(CORE, d)).isDirectory())) {
    const deps = new Set<string>()
    for (const file of sources(join(CORE, domain))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/from '\.\.\/([\w-]+)\//g)) if (m[1] !== domain) deps.add(m[1]!)
    }
    graph.set(domain, deps)
  }
  return graph
}

function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>()
  const path: string[] = []
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node]
    state.set(node, 'open')
    path.push(node)
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next)
      if (cycle) return cycle
    }
    path.pop()
    state.set(node, 'done')
    return undefined
  }
  for (const node of graph.keys()) {
    const cycle = visit(node)
    if (cycle) return cycle
  }
  return undefined
}

it('core domains import each other without cycles', () => {
  const graph = domainGraph()
  expect(graph.get('bot')?.has('scheduling')).toBe(true) // the graph is read at all
  expect(findCycle(graph)).toBeUndefined()
})

it('finds a cycle when there is one (the check itself)', () => {
  expect(findCycle(new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])]]))).toEqual(['a', 'b', 'c', 'a'])
})

// The people domain owns the `people` table: other domains read people through
// `people/index.ts` (PeopleLookups in their own transactions, PeopleService for the API's reads),
// so the one person of every surface has one set of queries, one cache and one change feed.
// A query naming the table outside core/people fails this test.
const PEOPLE_TABLE = /['"]people(?: as \w+)?['"]|\b(?:FROM|JOIN|UPDATE|INTO)\s+people\b/

/**
 * Files allowed to name it anyway, each with the reason:
 * - scheduling/firing.service.ts: the claim of due notifications joins people for their protocol
 *   inside its one locking statement (FOR UPDATE … SKIP LOCKED across tenants); a second statement
 *   per batch would cost every firing a round trip.
 */
const PEOPLE_TABLE_ALLOWED = new Set(['scheduling/firing.service.ts'])

function peopleTableReaders(): string[] {
  return sources(CORE)
    .map((file) => file.slice(CORE.length).replace(/^\//, ''))
    .filter((rel) => !rel.startsWith('people/') && !PEOPLE_TABLE_ALLOWED.has(rel))
    .filter((rel) => PEOPLE_TABLE.test(readFileSync(join(CORE, rel), 'utf8')))
}

it('only the people domain queries the people table (and the allowlisted files)', () => {
  expect(sources(join(CORE, 'people')).some((f) => PEOPLE_TABLE.test(readFileSync(f, 'utf8')))).toBe(true) // the pattern sees queries at all
  for (const rel of PEOPLE_TABLE_ALLOWED) expect(PEOPLE_TABLE.test(readFileSync(join(CORE, rel), 'utf8')), `${rel} no longer needs its allowance`).toBe(true)
  expect(peopleTableReaders()).toEqual([])
})

it('recognises a query of the people table in every form (the check itself)', () => {
  for (const text of [`db.selectFrom('people')`, `selectFrom('people as p')`, `updateTable("people")`, 'sql`UPDATE people SET x = 1`', 'sql`SELECT 1 FROM people p`', 'JOIN people ON']) {
    expect(PEOPLE_TABLE.test(text), text).toBe(true)
  }
  for (const text of [`what people write`, `'person_identities'`, `from people's phones`, `tags: ['peoples']`, 'the `people` table']) expect(PEOPLE_TABLE.test(text), text).toBe(false)
})
