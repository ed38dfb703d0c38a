// APNs throughput (issue 13: "pushes through the APNs peer ≥ 2,000/s over HTTP/2 from one worker").
// N pushes (BENCH_APNS_PUSHES, 20,000) go through the real APNs adapter (src/providers/push/apns.ts:
// one HTTP/2 session over TLS, the ES256 provider token signed once and reused) to the local APNs
// peer (test/peers/apns.ts, which checks each push's JWT, topic and payload as Apple does) running
// in a process of its own (bench/apns-peer.ts). This process plays the worker: it keeps C pushes in
// flight, for each C of BENCH_APNS_CONCURRENCY (`16,32,64,128`; the delivery pipeline keeps 16 provider
// calls in flight per batch, two to four batches at once), after 1,000 unmeasured warm-up pushes.
// Every push must be accepted by the peer, on one TLS connection.
//   node bench/apns.ts        (or BENCH_SCENARIOS=apns npm run bench)
import { fork } from 'node:child_process'
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto'
import { loadavg } from 'node:os'
import { ROOT, intEnv } from './children.ts'
import { createApnsProvider } from '../src/providers/push/apns.ts'

const N = intEnv('BENCH_APNS_PUSHES', 20_000)
const CONCURRENCIES = (process.env.BENCH_APNS_CONCURRENCY ?? '16,32,64,128').split(',').map((s) => Number(s.trim()))
if (CONCURRENCIES.some((c) => !Number.isInteger(c) || c < 1)) throw new Error('BENCH_APNS_CONCURRENCY must be positive integers, comma-separated')
const GOAL_PER_SECOND = 2000
const WARMUP = 1000
const TEAM = 'TEAM123456'
const KEY_ID = 'KEY1234567'
const TOPIC = 'org.example.care'
const log = (m: string) => process.stderr.write(`apns bench: ${m}\n`)

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const peer = fork(new URL('./apns-peer.ts', import.meta.url), [], {
  cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  env: { PATH: process.env.PATH, APNS_TEAM: TEAM, APNS_KEY_ID: KEY_ID, APNS_TOPIC: TOPIC, APNS_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString() },
})
const ask = <T>(m?: string) => new Promise<T>((resolve, reject) => {
  peer.once('message', (x) => resolve(x as T))
  peer.once('exit', (code) => reject(new Error(`the APNs peer exited with ${code}`)))
  if (m) peer.send(m)
})
try {
  const { url, ca } = await ask<{ url: string; ca: string }>()
  const apns = createApnsProvider('push', {
    provider: 'apns', teamId: TEAM, keyId: KEY_ID, topic: TOPIC, environment: 'sandbox', baseUrl: url, ca,
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  }, { urlPolicy: { allowPrivate: true, allowedHosts: [] } })
  const devices = Array.from({ length: 1000 }, () => randomBytes(32).toString('hex'))
  /** `count` pushes, `c` in flight; answers the seconds taken. */
  const run = async (count: number, c: number): Promise<number> => {
    let next = 0
    const started = process.hrtime.bigint()
    const lane = async () => {
      for (let i = next++; i < count; i = next++) {
        await apns.send({ id: randomUUID(), channel: 'push', to: devices[i % devices.length]!, subject: 'Clinic closed', body: `Hi First${i}, the clinic is closed on Friday.`, data: { 'multicast-id': 'bench' } })
      }
    }
    await Promise.all(Array.from({ length: Math.min(c, count) }, lane))
    return Number(process.hrtime.bigint() - started) / 1e9
  }
  await run(WARMUP, 32)
  let peerCpu = (await ask<{ cpuMicros: number }>('count')).cpuMicros
  const rows: Array<{ concurrency: number; pushes: number; seconds: number; perSecond: number; accepted: number; sessions: number; workerCpuMicrosPerPush: number; peerCpuMicrosPerPush: number; loadAverage: number }> = []
  for (const c of CONCURRENCIES) {
    const cpu = process.cpuUsage()
    const seconds = await run(N, c)
    const used = process.cpuUsage(cpu)
    const peerCounts = await ask<{ requests: number; accepted: number; sessions: number; cpuMicros: number }>('count')
    const row = {
      concurrency: c, pushes: N, seconds: Number(seconds.toFixed(2)), perSecond: Math.round(N / seconds), accepted: peerCounts.accepted, sessions: peerCounts.sessions,
      // CPU per push on each side: what the rate would be on an idle core, whatever the host's load.
      workerCpuMicrosPerPush: Math.round((used.user + used.system) / N), peerCpuMicrosPerPush: Math.round((peerCounts.cpuMicros - peerCpu) / N), loadAverage: loadavg()[0]!,
    }
    peerCpu = peerCounts.cpuMicros
    rows.push(row)
    log(`${c} in flight: ${N} pushes in ${row.seconds} s = ${row.perSecond}/s; CPU per push: worker ${row.workerCpuMicrosPerPush} µs, peer ${row.peerCpuMicrosPerPush} µs; accepted by the peer ${row.accepted}; TLS sessions so far ${row.sessions}`)
    if (row.accepted !== N) throw new Error(`the peer accepted ${row.accepted} of ${N} pushes`)
  }
  await apns.close?.()
  const best = Math.max(...rows.map((r) => r.perSecond))
  const sessions = rows.at(-1)!.sessions
  process.stdout.write(`### APNs (the adapter over HTTP/2 + TLS to the local peer in its own process)\n\n| pushes in flight | pushes | seconds | pushes/s | worker CPU per push | peer CPU per push |\n|---:|---:|---:|---:|---:|---:|\n`
    + rows.map((r) => `| ${r.concurrency} | ${r.pushes} | ${r.seconds} | ${r.perSecond} | ${r.workerCpuMicrosPerPush} µs | ${r.peerCpuMicrosPerPush} µs |`).join('\n')
    + `\n\nBest ${best}/s (goal ≥ ${GOAL_PER_SECOND}/s: ${best >= GOAL_PER_SECOND ? 'met' : 'NOT met'}); TLS connections opened: ${sessions}; load average ${loadavg()[0]!.toFixed(1)}\n`)
  process.stdout.write(`\nJSON ${JSON.stringify({ pushes: N, rows, best, goal: GOAL_PER_SECOND, met: best >= GOAL_PER_SECOND, sessions })}\n`)
} finally {
  peer.send('stop')
  await new Promise((r) => peer.once('exit', r))
}
