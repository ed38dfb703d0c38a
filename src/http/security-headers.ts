import { createHash } from 'node:crypto'
import type { FastifyInstance } from 'fastify'

/** The CSP source of an inline `<style>` element's exact text. */
export function styleHash(css: string): string {
  return `'sha256-${createHash('sha256').update(css, 'utf8').digest('base64')}'`
}

/**
 * Headers of a server-rendered HTML page of ours: nothing loads but its own inline styles (by hash)
 * and same-origin images, forms post only here, and no other site may frame it
 * (`frame-ancestors 'none'` and, for older browsers, `X-Frame-Options: DENY`).
 */
export function htmlPageHeaders(opts: { styles?: readonly string[] } = {}): Record<string, string> {
  const styles = (opts.styles ?? []).map(styleHash)
  const csp = [
    "default-src 'none'",
    styles.length > 0 ? `style-src ${styles.join(' ')}` : undefined,
    "img-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].filter(Boolean).join('; ')
  return {
    'content-security-policy': csp,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  }
}

/** The policy an HTML answer gets when its route set none: nothing loads, nobody frames it. */
const FALLBACK_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/**
 * Every answer says `X-Content-Type-Options: nosniff`; every HTML answer has a
 * Content-Security-Policy (the strict fallback when its route set none) and, unless its policy lets
 * other sites frame it (the embed's chat page), `X-Frame-Options`.
 */
export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (!reply.hasHeader('x-content-type-options')) reply.header('x-content-type-options', 'nosniff')
    const type = String(reply.getHeader('content-type') ?? '')
    if (type.startsWith('text/html')) {
      if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', FALLBACK_CSP)
      const csp = String(reply.getHeader('content-security-policy'))
      const ancestors = /frame-ancestors ([^;]*)/.exec(csp)?.[1]?.trim()
      if (!reply.hasHeader('x-frame-options')) {
        if (ancestors === undefined || ancestors === "'none'") reply.header('x-frame-options', 'DENY')
        else if (ancestors === "'self'") reply.header('x-frame-options', 'SAMEORIGIN')
      }
    }
    done(null, payload)
  })
}
