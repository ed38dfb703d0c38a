import type { FastifyRequest } from 'fastify'
import type { AppError } from '../../core/errors.ts'
import { byKind, type ErrorMapping, type ErrorShape, type Rendered } from '../../http/errors.ts'
import { htmlPageHeaders } from '../../http/security-headers.ts'
import { REALM } from './auth.ts'
import { PAGE_STYLES, renderError } from './page.ts'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Render errors of this route as a small HTML page instead of JSON. */
    sandboxHtml?: boolean
  }
}

/** `{"message"}` for the JSON API, a small HTML page for the page's routes. */
function render(status: number, message: string, req: FastifyRequest): Rendered {
  // The challenge makes a browser prompt for the tenant's client and token.
  const headers: Record<string, string> = status === 401 ? { 'www-authenticate': `Basic realm="${REALM}", charset="UTF-8"` } : {}
  if (req.routeOptions.config.sandboxHtml) {
    return { status, type: 'text/html; charset=utf-8', headers: { ...headers, ...htmlPageHeaders({ styles: PAGE_STYLES }), 'cache-control': 'no-store' }, body: renderError(status, message) }
  }
  return { status, headers, body: { message } }
}

const given = (status: number) => (err: AppError, req: FastifyRequest) => render(status, err.message, req)
const unauthorized = (_err: AppError, req: FastifyRequest) => render(401, 'Unauthorized', req)

/** Every catalog code on the sandbox, with its documented status. */
export const SANDBOX_ERRORS: ErrorMapping = byKind({
  invalid: given(400),
  unauthenticated: unauthorized,
  forbidden: given(403),
  not_found: given(404),
  conflict: given(409),
  rate_limited: (err, req) => {
    const r = render(429, err.message, req)
    return { ...r, headers: { ...r.headers, 'retry-after': String(err.details.retryAfter) } }
  },
  upstream_failed: given(502),
})

/** Errors of the sandbox: `{"message": ...}` (or a small HTML page for the page's routes), never internals. */
export const SANDBOX_ERROR_SHAPE: ErrorShape = {
  codes: SANDBOX_ERRORS,
  framework: (p, req) => render(p.status, p.code === 'unsupported_media_type' ? 'Unsupported Media Type' : p.message, req),
  internal: (errorId, req) => req.routeOptions.config.sandboxHtml
    ? render(500, `Internal Server Error (error id ${errorId})`, req)
    : { status: 500, body: { message: 'Internal Server Error', error_id: errorId } },
}
