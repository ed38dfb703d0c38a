// Just the part of autocannon 8's programmatic API the bench uses (the package ships no types).
declare module 'autocannon' {
  namespace autocannon {
    interface RequestData {
      method?: string
      path?: string
      headers?: Record<string, string>
      body?: string | Buffer
    }
    interface Request extends RequestData {
      setupRequest?: (req: RequestData, context: Record<string, unknown>) => RequestData | null | undefined
      onResponse?: (status: number, body: string, context: Record<string, unknown>, headers: Record<string, string>) => void
    }
    interface Options {
      url: string
      title?: string
      connections?: number
      duration?: number
      timeout?: number
      pipelining?: number
      method?: string
      headers?: Record<string, string>
      body?: string
      requests?: Request[]
      warmup?: { connections?: number; duration?: number }
    }
    interface Histogram {
      average: number; mean: number; stddev: number; min: number; max: number; total: number
      p50: number; p90: number; p97_5: number; p99: number; p99_9: number
    }
    interface Result {
      title?: string
      url: string
      duration: number
      errors: number
      timeouts: number
      non2xx: number
      resets: number
      mismatches: number
      '2xx': number
      statusCodeStats: Record<string, { count: number }>
      latency: Histogram
      requests: Histogram & { sent: number }
      throughput: Histogram
      warmup?: Result
    }
  }
  function autocannon(options: autocannon.Options): Promise<autocannon.Result>
  export default autocannon
}
