import type { FastifyInstance } from 'fastify'
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** The process's Prometheus registry; other modules add their own collectors to it. */
export interface Metrics {
  readonly registry: Registry
}

/** A registry with the process's default metrics and HTTP request count and latency by route. */
export function createMetrics(): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'switchboard_' })
  return { registry }
}

/** Record every response by method, route template and status. */
export function instrumentHttp(app: FastifyInstance, metrics: Metrics): void {
  const requests = new Counter({
    name: 'switchboard_http_requests_total', help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const, registers: [metrics.registry],
  })
  const latency = new Histogram({
    name: 'switchboard_http_request_duration_seconds', help: 'HTTP request latency by method and route',
    labelNames: ['method', 'route'] as const, registers: [metrics.registry],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  })
  app.addHook('onResponse', (req, reply, done) => {
    // Unmatched URLs share one label so scanners cannot blow up the series count.
    const route = req.routeOptions.url ?? 'unmatched'
    requests.inc({ method: req.method, route, status: String(reply.statusCode) })
    latency.observe({ method: req.method, route }, reply.elapsedTime / 1000)
    done()
  })
}
