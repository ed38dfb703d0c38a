import type { FastifyBaseLogger } from 'fastify'

/**
 * URL parameters that carry a credential: the Cass legacy `auth` token, the embed's session
 * `token`, Messenger's `hub.verify_token`, and the usual names for keys and secrets. `client` (a
 * client name), the embed's `auth_code` (the tenant's public embed code, printed into every page
 * that embeds the chat) and ids are not secrets and stay readable.
 */
export const SECRET_PARAMS = new Set([
  'auth', 'token', 'hub.verify_token', 'access_token', 'api_key', 'apikey', 'key', 'secret', 'password', 'signature', 'company_secret',
])

/** What a redacted value is shown as. */
export const REDACTED = '[REDACTED]'

/** A URL (path and query) with the values of secret parameters replaced. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?')
  if (q < 0) return url
  const parts = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=')
    const rawName = eq < 0 ? pair : pair.slice(0, eq)
    let name = rawName
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, ' '))
    } catch {
      // a broken escape: judged by its raw spelling
    }
    return eq >= 0 && SECRET_PARAMS.has(name.toLowerCase()) ? `${rawName}=${REDACTED}` : pair
  })
  return `${url.slice(0, q)}?${parts.join('&')}`
}

/**
 * Header and body fields pino censors wherever they are logged: credentials in headers, and the
 * credential fields of our request bodies and provider settings.
 */
export const REDACT_PATHS = [
  'req.headers.authorization', 'req.headers.cookie', 'req.headers["x-twilio-signature"]', 'req.headers["x-hub-signature-256"]',
  'headers.authorization', 'headers.cookie', 'headers["x-twilio-signature"]', 'headers["x-hub-signature-256"]',
  'body.auth', 'body.token', 'body.password', 'body.options',
  '*.auth', '*.token', '*.authToken', '*.apiKeySecret', '*.pass', '*.password', '*.privateKey', '*.appSecret',
  '*.pageAccessToken', '*.verifyToken', '*.vapidPrivateKey', '*.serviceAccount', '*.secret',
]

/** The request serializer Fastify logs with (`incoming request`), with the URL's secrets redacted. */
function serializeRequest(req: { method?: string; url?: string; headers?: Record<string, unknown>; host?: string; ip?: string; socket?: { remotePort?: number } }) {
  return {
    method: req.method,
    url: typeof req.url === 'string' ? redactUrl(req.url) : req.url,
    version: req.headers?.['accept-version'],
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  }
}

/**
 * The app's logger with redaction: request URLs lose the values of secret parameters, and the
 * header and body fields of REDACT_PATHS are censored in every line logged through it.
 */
export function redactingLogger<L extends FastifyBaseLogger>(logger: L): L {
  const child = logger.child({}, { serializers: { req: serializeRequest }, redact: { paths: REDACT_PATHS, censor: REDACTED } } as never)
  return child as L
}
