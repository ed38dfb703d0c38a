// The local APNs peer (test/peers/apns.ts) in a process of its own, for bench/apns.ts: Apple's side
// gets its own event loop, as a remote service would. Started with `fork`; the team, key id, topic
// and the public key (PEM) come in the environment. It answers `{url, ca}` once listening, and
// `{requests, accepted, cpuMicros, sessions, devices}` to a `count` message.
import { createPublicKey } from 'node:crypto'
import { ApnsPeer } from '../test/peers/apns.ts'

const env = (name: string): string => {
  const v = process.env[name]
  if (!v) throw new Error(`${name} is required`)
  return v
}
const peer = await new ApnsPeer({ teamId: env('APNS_TEAM'), keyId: env('APNS_KEY_ID'), topic: env('APNS_TOPIC'), publicKey: createPublicKey(env('APNS_PUBLIC_KEY')) }).start()
process.on('message', (m: unknown) => {
  if (m === 'count') {
    process.send!({ requests: peer.requests, accepted: peer.pushes.length, cpuMicros: process.cpuUsage().user + process.cpuUsage().system, sessions: peer.sessions, devices: new Set(peer.pushes.map((p) => p.deviceToken)).size })
    // Only the counts are wanted: keep the peer's memory flat across rounds.
    peer.pushes.length = 0
  } else if (m === 'stop') process.exit(0)
})
process.send!({ url: peer.url, ca: peer.cert.cert })
