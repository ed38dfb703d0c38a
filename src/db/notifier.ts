import pg from 'pg'
import type { EmbeddedServer } from './store.ts'

/** A handler of one channel's notifications. */
export type NotificationHandler = (payload: string) => void

/**
 * Cross-process events: PostgreSQL LISTEN/NOTIFY on a server, PGlite's in-process listeners on the
 * embedded store (whose single session cannot route notifications to socket clients).
 * `healthy` is false while notifications may be missed (connection lost, or a process that only
 * borrows another process's embedded store); consumers that cache must then not trust the cache.
 * Every time delivery may have had a gap, `onReset` handlers run.
 */
export interface Notifier {
  readonly healthy: boolean
  listen(channel: string, handler: NotificationHandler): Promise<void>
  onReset(handler: () => void): void
  close(): Promise<void>
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/

/**
 * Notifications of the PGlite instance this process hosts: the session LISTENs (so PostgreSQL emits
 * them), and the socket server hands over those that surface in a client's output.
 */
export function pgliteNotifier(server: EmbeddedServer): Notifier {
  const unlisten: Array<() => Promise<void>> = []
  const handlers = new Map<string, NotificationHandler[]>()
  server.onNotification((channel, payload) => {
    for (const h of handlers.get(channel) ?? []) h(payload)
  })
  return {
    healthy: true,
    async listen(channel, handler) {
      if (!CHANNEL.test(channel)) throw new Error(`bad channel name ${channel}`)
      const list = handlers.get(channel) ?? []
      list.push(handler)
      handlers.set(channel, list)
      // In-process queries (rare) deliver through PGlite's own listener.
      unlisten.push(await server.pglite.listen(channel, handler))
    },
    onReset() {},
    async close() {
      for (const u of unlisten.splice(0)) await u().catch(() => {})
    },
  }
}

/** No notifications at all: for a process that borrows another's embedded store (the CLI). */
export function silentNotifier(): Notifier {
  return { healthy: false, async listen() {}, onReset() {}, async close() {} }
}

/**
 * LISTEN on a dedicated connection, reconnecting with backoff (100 ms doubling to 5 s) and
 * LISTENing again on every channel after a reset, a terminated backend or a server restart. While
 * disconnected the notifier is unhealthy, and on every reconnect the reset handlers run (anything
 * cached may be stale: notifications sent meanwhile were missed). TCP keep-alive notices a server
 * that vanished without closing the connection.
 */
export function postgresNotifier(url: string): Notifier {
  const handlers = new Map<string, NotificationHandler[]>()
  const resets: Array<() => void> = []
  let client: pg.Client | undefined
  let healthy = false
  let closed = false
  let connecting: Promise<void> | undefined
  let retryMs = 100

  const reset = () => {
    healthy = false
    for (const r of resets) r()
  }

  const retryLater = () => {
    if (!closed) setTimeout(() => void ensure(), retryMs).unref()
    retryMs = Math.min(retryMs * 2, 5_000)
  }

  async function connect(): Promise<void> {
    const c = new pg.Client({ connectionString: url, keepAlive: true })
    c.on('notification', (n) => {
      for (const h of handlers.get(n.channel) ?? []) h(n.payload ?? '')
    })
    const lost = () => {
      if (client !== c) return
      client = undefined
      reset()
      c.end().catch(() => {})
      retryLater()
    }
    // Always listened to: an 'error' without a listener would end the process.
    c.on('error', lost)
    c.on('end', lost)
    try {
      await c.connect()
      if (closed) {
        // closed while connecting: this connection must not keep the process alive
        await c.end().catch(() => {})
        return
      }
      // Until no channel is missing: listen() may add one while these LISTENs run.
      const listening = new Set<string>()
      for (let missing = [...handlers.keys()]; missing.length > 0; missing = [...handlers.keys()].filter((ch) => !listening.has(ch))) {
        for (const channel of missing) {
          await c.query(`LISTEN ${channel}`)
          listening.add(channel)
        }
      }
    } catch (err) {
      // Connected but cut before every LISTEN went through: never keep a half-listening connection.
      await c.end().catch(() => {})
      throw err
    }
    client = c
    retryMs = 100
    healthy = true
    for (const r of resets) r()
  }

  function ensure(): Promise<void> {
    if (closed || client) return Promise.resolve()
    connecting ??= connect().catch(retryLater).finally(() => {
      connecting = undefined
    })
    return connecting
  }

  return {
    get healthy() {
      return healthy && client !== undefined
    },
    async listen(channel, handler) {
      if (!CHANNEL.test(channel)) throw new Error(`bad channel name ${channel}`)
      const list = handlers.get(channel)
      if (list) {
        list.push(handler)
        return
      }
      handlers.set(channel, [handler])
      // A connection lost meanwhile is no failure: the reconnect LISTENs on every channel.
      if (client) await client.query(`LISTEN ${channel}`).catch(() => {})
      else await ensure()
    },
    onReset(handler) {
      resets.push(handler)
    },
    async close() {
      closed = true
      healthy = false
      await connecting
      const c = client
      client = undefined
      await c?.end().catch(() => {})
    },
  }
}
