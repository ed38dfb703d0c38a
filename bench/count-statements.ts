// Count the statements a server sends to the database per HTTP request, by method:
//   BENCH_NODE_ARGS="--import ./bench/count-statements.ts" BENCH_SERVER_ENV="COUNT_STATEMENTS_FILE=/tmp/counts.json" npm run bench
// Every `pg` query (BEGIN and COMMIT included: each is a round trip) is counted under the method of
// the HTTP request that started last, which is exact enough for scenarios that run one after the
// other (the POST scenario's statements, the PATCH scenario's). LISTEN connections and the job
// queue's polling count too, under whatever method ran last. The counts are written to
// COUNT_STATEMENTS_FILE on exit: per method, requests, statements, statements per request, and
// the statements by their first words, and the server's CPU time per request (the process's user +
// system time between request starts, charged to the method that ran).
import diagnostics from 'node:diagnostics_channel'
import { writeFileSync } from 'node:fs'
import pg from 'pg'

const file = process.env.COUNT_STATEMENTS_FILE
interface Tally { requests: number; statements: number; cpuMicros: number; byKind: Record<string, number> }
const tallies = new Map<string, Tally>()
let current = '(startup)'
const tally = (key: string): Tally => {
  let t = tallies.get(key)
  if (!t) tallies.set(key, t = { requests: 0, statements: 0, cpuMicros: 0, byKind: {} })
  return t
}

// The process's CPU time (user + system) since the last request began, charged to the method that ran then.
let cpuMark = process.cpuUsage()
function chargeCpu(): void {
  const used = process.cpuUsage(cpuMark)
  cpuMark = process.cpuUsage()
  tally(current).cpuMicros += used.user + used.system
}

diagnostics.subscribe('http.server.request.start', (message) => {
  const req = (message as { request: { method?: string; url?: string } }).request
  chargeCpu()
  current = `${req.method ?? '?'} ${(req.url ?? '').split(/[/?]/)[1] ?? ''}`
  tally(current).requests++
})

function kindOf(text: string): string {
  const words = text.replace(/\s+/g, ' ').trim().split(' ')
  const head = words.slice(0, 2).join(' ')
  if (/^with /i.test(head)) {
    const verb = /\b(insert into|update|delete from|select)\b\s+("?\w+"?)/i.exec(text.replace(/\s+/g, ' '))
    return `WITH … ${verb ? `${verb[1]} ${verb[2]}` : ''}`.trim()
  }
  const m = /^(insert into|update|delete from|select|begin|commit|rollback|listen|unlisten|set|show)\b\s*("?[\w.]+"?)?/i.exec(words.join(' '))
  // A statement with no plain name after its verb (`select *`, `select (…)`, `select exists …`) is told by its opening words.
  if (m && m[2] === undefined) return words.slice(0, 8).join(' ')
  return m ? `${m[1]!.toUpperCase()} ${m[2] ?? ''}`.trim() : head
}

const original = pg.Client.prototype.query as (...args: unknown[]) => unknown
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const q = args[0]
  const text = typeof q === 'string' ? q : (q as { text?: string } | undefined)?.text
  if (typeof text === 'string') {
    const t = tally(current)
    t.statements++
    const kind = kindOf(text).slice(0, 80)
    t.byKind[kind] = (t.byKind[kind] ?? 0) + 1
  }
  return original.apply(this, args)
} as typeof pg.Client.prototype.query

function dump(): void {
  if (!file) return
  chargeCpu()
  const out = Object.fromEntries([...tallies].map(([k, t]) => [k, {
    requests: t.requests, statements: t.statements,
    perRequest: t.requests > 0 ? Number((t.statements / t.requests).toFixed(3)) : null,
    cpuMicrosPerRequest: t.requests > 0 ? Math.round(t.cpuMicros / t.requests) : null,
    byKind: Object.fromEntries(Object.entries(t.byKind).sort((a, b) => b[1] - a[1])),
  }]))
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n')
}
process.on('exit', dump)
setInterval(dump, 1000).unref()
