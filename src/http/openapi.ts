/** An OpenAPI document as @fastify/swagger produces it (only what we touch is typed). */
interface OpenApiDocument {
  info: Record<string, unknown>
  paths?: Record<string, unknown>
  [key: string]: unknown
}

/** Each surface's own document: which paths belong to it, and how it introduces itself. */
export const SURFACE_DOCUMENTS = {
  cass: {
    title: 'Switchboard — Person & bot API (Cass-compatible)',
    description: 'Wire-compatible with the Cass third-party integration API. Authenticate with `Authorization: Basic base64(client:token)`, or `client` and `auth` parameters.',
    owns: (path: string) => !/^\/(sandbox|admin|webhooks|apps|v1|v2\/(?!ping_person))(\/|$)/.test(path),
  },
  sandbox: {
    title: 'Switchboard — Sandbox outbox',
    description: 'What the sandbox provider would have sent, and answering as the person. Basic auth with the tenant\'s Cass credentials.',
    owns: (path: string) => path === '/sandbox' || path.startsWith('/sandbox/'),
  },
  admin: {
    title: 'Switchboard — Tenant admin API',
    description: 'Provider settings per channel (stored encrypted), the suppression list, messaging settings. Basic auth with the tenant\'s Cass credentials.',
    owns: (path: string) => path.startsWith('/admin/'),
  },
} as const

export type SurfaceName = keyof typeof SURFACE_DOCUMENTS

/** The app-wide document cut down to one surface's paths, with that surface's title. */
export function surfaceDocument(full: OpenApiDocument, surface: SurfaceName): OpenApiDocument {
  const spec = SURFACE_DOCUMENTS[surface]
  const paths = Object.fromEntries(Object.entries(full.paths ?? {}).filter(([path]) => spec.owns(path)))
  return { ...full, info: { ...full.info, title: spec.title, description: spec.description }, paths }
}
