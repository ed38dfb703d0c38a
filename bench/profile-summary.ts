// Summarise a V8 .cpuprofile (from `BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" npm run bench`):
// self time by function and by package / source file, and inclusive time of selected frames.
//   node bench/profile-summary.ts DIR/CPU.*.cpuprofile [top=25]
import { readFileSync } from 'node:fs'

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const [file, topArg] = process.argv.slice(2)
if (!file) {
  process.stderr.write('usage: node bench/profile-summary.ts FILE.cpuprofile [top]\n')
  process.exit(2)
}
const top = Number(topArg ?? 25)
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile

const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

// Self time per node, from the sample stream.
const self = new Map<number, number>()
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
const total = [...self.values()].reduce((a, b) => a + b, 0)

function where(url: string): string {
  if (url === '') return '(native / V8)'
  const nm = url.lastIndexOf('/node_modules/')
  if (nm >= 0) {
    const rest = url.slice(nm + 14).split('/')
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!
  }
  if (url.startsWith('node:')) return url
  const src = url.indexOf('/src/')
  return src >= 0 ? url.slice(src + 1) : url
}

function add(map: Map<string, number>, key: string, v: number) {
  map.set(key, (map.get(key) ?? 0) + v)
}

const fnSelf = new Map<string, number>()
const placeSelf = new Map<string, number>()
for (const [id, t] of self) {
  const f = byId.get(id)!.callFrame
  add(fnSelf, `${f.functionName || '(anonymous)'}  ${where(f.url)}:${f.lineNumber + 1}`, t)
  add(placeSelf, where(f.url), t)
}

// Inclusive time: a sample counts once for every distinct package/file on its stack.
const placeIncl = new Map<string, number>()
for (const [id, t] of self) {
  const seen = new Set<string>()
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) seen.add(where(byId.get(cur)!.callFrame.url))
  for (const s of seen) add(placeIncl, s, t)
}

const pct = (t: number) => `${((t / total) * 100).toFixed(1).padStart(5)} %`
function print(title: string, map: Map<string, number>) {
  process.stdout.write(`\n${title}\n`)
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(v)}  ${k}\n`)
}
process.stdout.write(`${file}: ${(total / 1e6).toFixed(1)} s sampled\n`)
print('self time by package / file', placeSelf)
print('inclusive time by package / file (a frame of it anywhere on the stack)', placeIncl)
print('self time by function', fnSelf)
