import { createConnection, createServer, type Server, type Socket } from 'node:net'

const READY_FOR_QUERY = 0x5a // 'Z'
const ERROR_RESPONSE = 0x45 // 'E'
const IDLE = 0x49 // 'I': ReadyForQuery outside a transaction

/** Splits a PostgreSQL backend stream into messages (type byte, int32 length, body) across chunks. */
class BackendFrames {
  #header: number[] = []
  #type = 0
  #left = 0
  #last = 0

  /** Feed a chunk; `onMessage(type, lastByte, end)` for each message that ends in it (`end`: offset after it). */
  feed(chunk: Buffer, onMessage: (type: number, lastByte: number, end: number) => void): void {
    let i = 0
    while (i < chunk.length) {
      if (this.#left > 0) {
        const n = Math.min(this.#left, chunk.length - i)
        i += n
        this.#left -= n
        this.#last = chunk[i - 1]!
        if (this.#left === 0) onMessage(this.#type, this.#last, i)
        continue
      }
      this.#header.push(chunk[i]!)
      i++
      if (this.#header.length < 5) continue
      const h = Buffer.from(this.#header)
      this.#header = []
      this.#type = h[0]!
      this.#left = h.readInt32BE(1) - 4
      if (this.#left <= 0) {
        this.#left = 0
        onMessage(this.#type, 0, i)
      }
    }
  }
}

/**
 * One client connection through the proxy. While the client is idle (its last request answered,
 * no transaction open) a lost upstream is replaced without the client noticing: the proxy connects
 * to the new target, replays the client's startup message and swallows the new handshake. The
 * embedded store has one PostgreSQL session for every client, so no per-connection state is lost.
 * A request outside a transaction whose upstream is lost before any answer came is sent again to
 * the new target: a stopping owner runs no message after its last idle moment (its session queue
 * closes), so a request it never answered never ran. A client that loses its upstream after part
 * of an answer, or inside a transaction, is disconnected (its query fails). An owner killed
 * outright (SIGKILL) may die between running a request and answering it; such a request is sent
 * again too — the same window a client of any database has when its server dies mid-commit.
 */
class ProxiedConnection {
  readonly #client: Socket
  readonly #proxy: ForwardingProxy
  #startup: Buffer | undefined
  #startupBytes: Buffer[] = []
  #upstream: Socket | undefined
  #frames = new BackendFrames()
  /** A request is outstanding or a transaction is open. */
  #busy = true
  /** Client bytes waiting for an upstream (connecting, or replaying the handshake). */
  #pending: Buffer[] = []
  #closed = false
  /** Replaying the startup to a new upstream: its answer is swallowed, client bytes wait. */
  #handshake = false
  /** The client's bytes since the last ReadyForQuery: the request under way, to send again. */
  #request: Buffer[] = []
  /** Any answer to the request under way has reached the client. */
  #answered = false
  /** The last ReadyForQuery said a transaction is open. */
  #inTransaction = false

  constructor(client: Socket, proxy: ForwardingProxy) {
    this.#client = client
    this.#proxy = proxy
    client.on('data', (d: Buffer) => this.#fromClient(d))
    client.on('error', () => this.close())
    client.on('close', () => this.close())
  }

  async start(): Promise<void> {
    try {
      const upstream = await this.#proxy.connectUpstream()
      this.#attach(upstream, false)
    } catch {
      this.close()
    }
  }

  #fromClient(d: Buffer): void {
    if (!this.#startup) {
      this.#startupBytes.push(d)
      const all = Buffer.concat(this.#startupBytes)
      if (all.length >= 4 && all.length >= all.readInt32BE(0)) this.#startup = all.subarray(0, all.readInt32BE(0))
    } else {
      this.#busy = true
      this.#request.push(d)
    }
    if (this.#upstream && !this.#handshake && this.#pending.length === 0) this.#upstream.write(d)
    else this.#pending.push(d)
  }

  #attach(upstream: Socket, replaying: boolean): void {
    if (this.#closed) return void upstream.destroy()
    this.#upstream = upstream
    this.#frames = new BackendFrames()
    this.#handshake = replaying
    upstream.on('data', (chunk: Buffer) => {
      if (!this.#handshake) {
        this.#client.write(chunk)
        this.#answered = true
        this.#frames.feed(chunk, (type, last, end) => {
          if (type !== READY_FOR_QUERY) return
          this.#busy = last !== IDLE
          this.#inTransaction = last !== IDLE
          // A new request starts after this; an answer already past it belongs to it.
          this.#request = []
          this.#answered = end < chunk.length
        })
        return
      }
      // Nothing of the client's was sent yet, so the chunk ends with the handshake's ReadyForQuery.
      this.#frames.feed(chunk, (type) => {
        if (!this.#handshake) return
        if (type === ERROR_RESPONSE) return this.close()
        if (type === READY_FOR_QUERY) this.#handshake = false
      })
      if (this.#handshake || this.#closed) return
      this.#flush()
    })
    upstream.on('error', () => upstream.destroy())
    upstream.once('close', () => this.#lost(upstream))
    if (replaying) upstream.write(this.#startup!)
    else this.#flush()
  }

  #flush(): void {
    const upstream = this.#upstream
    if (!upstream) return
    for (const d of this.#pending.splice(0)) upstream.write(d)
  }

  #lost(upstream: Socket): void {
    if (this.#closed || this.#upstream !== upstream) return
    this.#upstream = undefined
    if (!this.#startup) return this.close()
    if (this.#busy) {
      // Unanswered and outside a transaction: it never ran (see the class comment); send it again.
      if (this.#answered || this.#inTransaction || this.#request.length === 0) return this.close()
      this.#pending = [...this.#request]
    }
    this.#proxy.connectUpstream(upstream.remotePort).then((next) => this.#attach(next, true), () => this.close())
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#client.destroy()
    this.#upstream?.destroy()
    this.#proxy.forget(this)
  }
}

/**
 * A loopback port that forwards every connection to the current target port. A process that
 * borrows another process's embedded store connects through it, so that when the owner goes away
 * `resolve` can find the new target (a new owner's port, or a store this process now hosts itself)
 * while the pools, pg-boss and the rest keep their one URL and their idle connections.
 */
export class ForwardingProxy {
  readonly #resolve: () => Promise<number>
  #target: number | undefined
  #resolving: Promise<number> | undefined
  #server: Server | undefined
  readonly #connections = new Set<ProxiedConnection>()
  #stopped = false

  /** `resolve` finds the port to forward to; it is asked again whenever that port stops answering. */
  constructor(initialTarget: number, resolve: () => Promise<number>) {
    this.#target = initialTarget
    this.#resolve = resolve
  }

  #retarget(failed: number | undefined): Promise<number> {
    if (this.#target !== undefined && this.#target !== failed) return Promise.resolve(this.#target)
    this.#target = undefined
    this.#resolving ??= this.#resolve().then((port) => {
      this.#target = port
      return port
    }).finally(() => {
      this.#resolving = undefined
    })
    return this.#resolving
  }

  /** A connection to the current target; `failed`: a port that just went away (find the next). */
  async connectUpstream(failed?: number): Promise<Socket> {
    if (failed !== undefined) await this.#retarget(failed)
    for (let attempt = 0; ; attempt++) {
      if (this.#stopped) throw new Error('the proxy is stopped')
      const port = this.#target ?? (await this.#retarget(undefined))
      try {
        return await new Promise<Socket>((resolve, reject) => {
          const upstream = createConnection({ host: '127.0.0.1', port })
          upstream.once('connect', () => {
            upstream.off('error', reject)
            upstream.setNoDelay(true)
            resolve(upstream)
          })
          upstream.once('error', reject)
        })
      } catch (err) {
        if (this.#stopped || attempt >= 2) throw err
        await this.#retarget(port)
      }
    }
  }

  forget(connection: ProxiedConnection): void {
    this.#connections.delete(connection)
  }

  async listen(): Promise<number> {
    const server = createServer((client: Socket) => {
      if (this.#stopped) return void client.destroy()
      client.setNoDelay(true)
      const connection = new ProxiedConnection(client, this)
      this.#connections.add(connection)
      void connection.start()
    })
    this.#server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    return (server.address() as { port: number }).port
  }

  async stop(): Promise<void> {
    this.#stopped = true
    const server = this.#server
    this.#server = undefined
    for (const c of [...this.#connections]) c.close()
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
