import type { FastifyInstance } from 'fastify'

/** An OpenAPI document as @fastify/swagger produces it (only what we touch is typed). */
export interface OpenApiDocument {
  info: Record<string, unknown>
  paths?: Record<string, Record<string, unknown>>
  [key: string]: unknown
}

/** Each surface's own document: how it introduces itself. Which routes it has, its plugin declares. */
export const SURFACE_DOCUMENTS = {
  cass: {
    title: 'Switchboard — Person & bot API (Cass-compatible)',
    description: 'Wire-compatible with the Cass third-party integration API. Authenticate with `Authorization: Basic base64(client:token)`, or `client` and `auth` parameters.',
  },
  sandbox: {
    title: 'Switchboard — Sandbox outbox',
    description: 'What the sandbox provider would have sent, and answering as the person. Basic auth with the tenant\'s Cass credentials.',
  },
  admin: {
    title: 'Switchboard — Tenant admin API',
    description: 'Provider settings per channel (stored encrypted), the suppression list, messaging settings, the contact-center setup. Basic auth with the tenant\'s Cass credentials.',
  },
  ccai: {
    title: 'Switchboard — Contact-center Apps API (CCAI Platform-compatible)',
    description: 'Wire-compatible with the CCAI Platform (UJET) Apps API at `/apps/api/v1`. Authenticate with `Authorization: Basic base64(subdomain:api_token)` (the company secret is accepted as the password too). Errors are `{"message": …}`.',
  },
  agent: {
    title: 'Switchboard — Agent API',
    description: 'What an agent workspace needs: sign-in, status, the live event stream of offers and chats, accepting, messaging, transferring, ending and wrapping up. `Authorization: Bearer <token>` from `POST /agent/v1/login`.',
  },
  courier: {
    title: 'Switchboard — Messaging API (JSON:API, courier-compatible)',
    description: 'Wire-compatible with the courier API definition 1.0.0: JSON:API documents with kebab-case attributes under `/v1/` and `/v2/`, paths with a trailing slash. Authenticate with `Authorization: Bearer <api key>` (or `X-Api-Key: <api key>`); every 4XX is `{"errors": [{status, code, detail, source, meta}]}`.',
  },
  console: {
    title: 'Switchboard — Console API',
    description: 'The small API of the web console at `/console`, only for what no other surface has: sign-in with a session cookie (HTTP-only, SameSite=Strict), console users, the people search and a person\'s one timeline. Every POST, PUT, PATCH and DELETE carries `X-CSRF-Token` (from the session). Errors are `{"message", "code"}`.',
  },
} as const

export type SurfaceName = keyof typeof SURFACE_DOCUMENTS

/** The OpenAPI extension an operation carries its surface in (cut out of the published documents). */
const SURFACE_KEY = 'x-surface'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The surface (OpenAPI document) a route belongs to, set by `declareSurface` for a plugin's routes. */
    surface?: SurfaceName
  }
}

/**
 * Every route this plugin context (and its children) registers from now on belongs to `surface`'s
 * OpenAPI document, whatever its path: `/v2/video-channels/…` of one surface can sit beside
 * `/v2/ping_person` of another. A route may name another surface in its own `config.surface`.
 */
export function declareSurface(app: FastifyInstance, surface: SurfaceName): void {
  app.addHook('onRoute', (route) => {
    // Mutated in place: @fastify/swagger keeps this very object to build the document later.
    route.config = { ...route.config, surface: route.config?.surface ?? surface }
  })
}

/** The `transform` option of @fastify/swagger: marks each operation with the surface of its route. */
export function markSurface({ schema, url, route }: { schema: unknown; url: string; route: { config?: { surface?: SurfaceName } } }) {
  const surface = route.config?.surface
  if (schema === undefined || schema === null || surface === undefined) return { schema: schema as Record<string, unknown>, url }
  return { schema: { ...(schema as Record<string, unknown>), [SURFACE_KEY]: surface }, url }
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'])

/** The app-wide document cut down to one surface's operations, with that surface's title. */
export function surfaceDocument(full: OpenApiDocument, surface: SurfaceName): OpenApiDocument {
  const spec = SURFACE_DOCUMENTS[surface]
  const paths: Record<string, Record<string, unknown>> = {}
  for (const [path, item] of Object.entries(full.paths ?? {})) {
    const kept: Record<string, unknown> = {}
    let operations = 0
    for (const [key, value] of Object.entries(item)) {
      if (!METHODS.has(key)) {
        kept[key] = value
        continue
      }
      const op = value as Record<string, unknown>
      if (op[SURFACE_KEY] !== surface) continue
      const { [SURFACE_KEY]: _surface, ...rest } = op
      kept[key] = rest
      operations++
    }
    if (operations > 0) paths[path] = kept
  }
  return { ...full, info: { ...full.info, title: spec.title, description: spec.description }, paths }
}
