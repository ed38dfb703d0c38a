import type { FastifyInstance } from 'fastify'
import type { Tenant } from '../core/tenants/index.ts'
import { htmlPageHeaders } from './security-headers.ts'

const STYLE = `
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; line-height: 1.5; }
  body { margin: 0 auto; max-width: 44rem; padding: 1.5rem 1rem; }
  h1 { margin-block-end: .25rem; }
  li { margin-block: .35rem; }
  code { font-size: .95em; }
  .muted { opacity: .75; }
`

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

/** What the landing page links to. */
export interface LandingPageData {
  /** Whether `/sandbox` is served (`SWITCHBOARD_SANDBOX`). */
  sandbox: boolean
  /** The Demo tenant's web chat page, when there is one to show. */
  demoChat?: string | undefined
}

/** The web chat page of a tenant, with the look `npm start` prints for the Demo tenant. */
export function demoChatPath(tenant: Pick<Tenant, 'embedCode' | 'cassClient'>): string {
  const q = new URLSearchParams({ auth_code: tenant.embedCode, name: 'Tess', color: '228fb1', intro: 'Hello! I am here to help.' })
  return `/embed/1/${encodeURIComponent(tenant.cassClient)}?${q.toString()}`
}

/** The small HTML page at `/`: where the docs, the OpenAPI documents, the sandbox and the chat demo are. */
export function renderLandingPage(d: LandingPageData): string {
  const docs = [
    '<li><a href="/openapi/cass.json">Person &amp; bot API (Cass-compatible)</a> — <code>/openapi/cass.json</code></li>',
    '<li><a href="/openapi/admin.json">Admin API</a> — <code>/openapi/admin.json</code></li>',
    d.sandbox ? '<li><a href="/openapi/sandbox.json">Sandbox API</a> — <code>/openapi/sandbox.json</code></li>' : '',
  ].filter(Boolean).join('\n')
  const chat = d.demoChat
    ? `<li><a href="${escapeHtml(d.demoChat)}">Web chat demo</a> — the Demo tenant’s bot in the chat page (<code>/embed/1/{company}?auth_code=…</code>)</li>`
    : '<li>Web chat demo: <code>/embed/1/{company}?auth_code={embed code}</code> for a tenant (<code>npm start</code> prints the Demo tenant’s link)</li>'
  const sandbox = d.sandbox
    ? '<li><a href="/sandbox">Sandbox</a> — every message the sandbox provider “sent”, and answering as the person (the tenant’s Cass client and token)</li>'
    : ''
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>Switchboard</h1>
<p>A self-hosted engagement hub: a directory of the people an organisation serves, bot threads and check-ins, delivery on every channel.</p>
</header>
<main>
<h2>Try it</h2>
<ul>
<li><a href="/docs">API documentation</a> — interactive, every surface</li>
${sandbox}
${chat}
</ul>
<h2>OpenAPI documents</h2>
<ul>
${docs}
</ul>
<p><a href="/console">Console</a>: sign in with the owner login that <code>tenant create</code> (or the first start, for the Demo tenant) printed.</p>
</main>
</body>
</html>
`
}

/** `GET /`: the landing page. */
export function registerLandingPage(app: FastifyInstance, opts: { sandbox: boolean; findDemo: () => Promise<Tenant | undefined> }): void {
  const headers = { ...htmlPageHeaders({ styles: [STYLE] }), 'cache-control': 'no-cache' }
  app.get('/', async (_req, reply) => {
    // The demo link is for development servers: shown with the sandbox only (both are off in production).
    const demo = opts.sandbox ? await opts.findDemo() : undefined
    const page = renderLandingPage({ sandbox: opts.sandbox, demoChat: demo ? demoChatPath(demo) : undefined })
    return reply.type('text/html; charset=utf-8').headers(headers).send(page)
  })
}
