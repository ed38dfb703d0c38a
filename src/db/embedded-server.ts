import { createServer, type Server, type Socket } from 'node:net'
import type { PGlite } from '@electric-sql/pglite'
import { PGLiteSocketHandler } from '@electric-sql/pglite-socket'

interface Pending {
  handlerId: number
  message: Uint8Array
  onData: (data: Uint8Array) => void
  resolve: (bytes: number) => void
  reject: (err: Error) => void
}

const SYNC = 0x53 // 'S': ends an extended-query batch (Parse/Bind/Describe/Execute … Sync)
const QUERY = 0x51 // 'Q': a simple query, complete in itself
const TERMINATE = 0x58 // 'X'

function isStartupPacket(m: Uint8Array): boolean {
  // Startup, SSL and cancel requests have no type byte: int32 length, then int32 code.
  return m.length >= 8 && new DataView(m.buffer, m.byteOffset, m.byteLength).getInt32(0) === m.length
}

const NOTIFICATION = 0x41 // 'A': NotificationResponse

/**
 * Find NotificationResponse messages in a complete stretch of backend output. The session is
 * shared, so a NOTIFY committed by any client surfaces in whichever client's output comes next;
 * PGlite's own listeners never see output that went to a socket, so the server reads it here.
 */
export function scanNotifications(out: Buffer, emit: (channel: string, payload: string) => void): void {
  let i = 0
  while (i + 5 <= out.length) {
    const type = out[i]!
    const length = out.readInt32BE(i + 1)
    if (length < 4 || i + 1 + length > out.length) return
    if (type === NOTIFICATION) {
      const body = out.subarray(i + 9, i + 1 + length) // after the sender's pid
      const end = body.indexOf(0)
      if (end >= 0) emit(body.subarray(0, end).toString('utf8'), body.subarray(end + 1, body.indexOf(0, end + 1)).toString('utf8'))
    }
    i += 1 + length
  }
}

/**
 * Serialises the protocol messages of many client connections onto PGlite's single session.
 *
 * pglite-socket's own multiplexer keeps a client on the session only while a transaction is open,
 * so under concurrent load another client's Parse can land between one client's Parse and its
 * Bind/Execute and the server answers "unnamed prepared statement does not exist". This queue also
 * keeps the session with a client until its extended-query batch reaches Sync, and it keeps going
 * after a failed message instead of stalling every other client.
 */
export class SessionQueue {
  readonly #db: PGlite
  /** Called for every NotificationResponse the session emits (see `scanNotifications`). */
  onNotification: ((channel: string, payload: string) => void) | undefined
  #queue: Pending[] = []
  #processing = false
  /** The client that holds the session: mid-batch or inside a transaction. */
  #owner: number | null = null

  constructor(db: PGlite) {
    this.#db = db
  }

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      // Closing: a message is never run (nor answered); its connection is closed unanswered, so a
      // borrowing process's forwarding port knows the request did not run and may send it again.
      if (this.#closing) return
      this.#queue.push({ handlerId, message, onData, resolve, reject })
      void this.#process()
    })
  }

  #closing = false

  /** Run no message from now on (the server is stopping; see `EmbeddedSocketServer.stop`). */
  close(): void {
    this.#closing = true
    this.#queue = []
  }

  async #process(): Promise<void> {
    if (this.#processing) return
    this.#processing = true
    try {
      while (this.#queue.length > 0 && !this.#closing) {
        const index = this.#owner === null ? 0 : this.#queue.findIndex((q) => q.handlerId === this.#owner)
        if (index < 0) break // the owner's next message has not arrived yet
        const item = this.#queue.splice(index, 1)[0]!
        let bytes = 0
        const output: Uint8Array[] = []
        try {
          await this.#db.runExclusive(() => this.#db.execProtocolRawStream(item.message, {
            onRawData: (data: Uint8Array) => {
              bytes += data.length
              if (this.onNotification) output.push(data)
              item.onData(data)
            },
          }))
        } catch (err) {
          this.#owner = null
          item.reject(err as Error)
          continue
        }
        if (this.onNotification && output.length > 0) scanNotifications(Buffer.concat(output), this.onNotification)
        const type = isStartupPacket(item.message) ? 0 : item.message[0]
        const midBatch = type !== 0 && type !== SYNC && type !== QUERY && type !== TERMINATE
        this.#owner = midBatch || this.#db.isInTransaction() ? item.handlerId : null
        item.resolve(bytes)
      }
    } finally {
      this.#processing = false
    }
  }

  /** No message waiting or running, no batch or transaction open: every client has its answers. */
  get idle(): boolean {
    return this.#queue.length === 0 && !this.#processing && this.#owner === null
  }

  clearQueueForHandler(handlerId: number): void {
    this.#queue = this.#queue.filter((q) => {
      if (q.handlerId !== handlerId) return true
      q.reject(new Error('Handler disconnected'))
      return false
    })
  }

  /** A client that left while holding the session: roll its transaction back and move on. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.#owner !== handlerId) return
    if (this.#db.isInTransaction()) await this.#db.exec('ROLLBACK')
    this.#owner = null
    void this.#process()
  }
}

/** PGlite served on a loopback TCP port to any number of `pg` clients. */
export class EmbeddedSocketServer {
  readonly #db: PGlite
  readonly #queue: SessionQueue
  readonly #handlers = new Set<PGLiteSocketHandler>()
  #server: Server | undefined

  constructor(db: PGlite) {
    this.#db = db
    this.#queue = new SessionQueue(db)
  }

  /** Receive every notification committed through this server's session. */
  set onNotification(handler: ((channel: string, payload: string) => void) | undefined) {
    this.#queue.onNotification = handler
  }

  /** Listen on 127.0.0.1 (port 0: any free port); resolves with the port. */
  async listen(port = 0): Promise<number> {
    const server = createServer((socket: Socket) => {
      const handler = new PGLiteSocketHandler({ db: this.#db, queryQueue: this.#queue, closeOnDetach: true } as unknown as ConstructorParameters<typeof PGLiteSocketHandler>[0])
      this.#handlers.add(handler)
      handler.addEventListener('close', () => this.#handlers.delete(handler))
      handler.addEventListener('error', () => this.#handlers.delete(handler))
      handler.attach(socket).catch(() => socket.destroy())
    })
    this.#server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => resolve())
    })
    return (server.address() as { port: number }).port
  }

  /**
   * Stop serving. New connections are refused at once; open ones are closed at a moment when the
   * session is idle (waiting up to `drainMs`), so that clients of other processes that borrow
   * this store lose no request in flight and can move to the next owner unnoticed.
   */
  async stop(drainMs = 5_000): Promise<void> {
    const server = this.#server
    this.#server = undefined
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve()
    const deadline = Date.now() + drainMs
    while (this.#handlers.size > 0 && !this.#queue.idle && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
    // At once after the idle check (no await between): a message that arrives from now on is
    // never run, so a client that gets no answer knows its request did not happen.
    this.#queue.close()
    await Promise.all([...this.#handlers].map((h) => h.detach(true)))
    this.#handlers.clear()
    await closed
  }
}
