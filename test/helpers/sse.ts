/** One Server-Sent Event as received. */
export interface SseEvent {
  id: string | undefined
  event: string
  data: string
}

/** A live `text/event-stream` connection read with fetch: the events so far, and a way to wait for more. */
export interface SseStream {
  readonly status: number
  readonly headers: Headers
  readonly events: SseEvent[]
  /** Resolve once at least `count` events arrived (fails after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<SseEvent[]>
  close(): void
}

/** Open `url` as an event stream (a real HTTP connection; `app.inject` cannot stream). */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const abort = new AbortController()
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal })
  const events: SseEvent[] = []
  const waiters: Array<() => void> = []
  if (res.ok && res.body) {
    void (async () => {
      const decoder = new TextDecoder()
      let buffer = ''
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true })
          let end: number
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end)
            buffer = buffer.slice(end + 2)
            const e: SseEvent = { id: undefined, event: 'message', data: '' }
            let hasData = false
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) continue
              const [field, ...rest] = line.split(':')
              const value = rest.join(':').replace(/^ /, '')
              if (field === 'id') e.id = value
              else if (field === 'event') e.event = value
              else if (field === 'data') {
                e.data += (hasData ? '\n' : '') + value
                hasData = true
              }
            }
            if (hasData) {
              events.push(e)
              for (const w of waiters.splice(0)) w()
            }
          }
        }
      } catch {
        // aborted
      }
    })()
  }
  return {
    status: res.status,
    headers: res.headers,
    events,
    async waitFor(count, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs
      while (events.length < count) {
        const left = deadline - Date.now()
        if (left <= 0) throw new Error(`timed out waiting for ${count} events; got ${events.length}: ${events.map((e) => e.data).join(' | ')}`)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, 500))
          waiters.push(() => {
            clearTimeout(timer)
            resolve()
          })
        })
      }
      return events
    },
    close() {
      abort.abort()
    },
  }
}
