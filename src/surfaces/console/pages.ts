import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { extname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'

/** Where `vite build` (npm install's postinstall, or `npm run build:console`) puts the console. */
export const CONSOLE_DIST = fileURLToPath(new URL('../../../web/console/dist/', import.meta.url))

/**
 * The console pages' Content-Security-Policy: scripts, styles, fonts and API calls only from
 * here, no inline script or style, images from here (or data: URLs), no plugins, no framing.
 */
export const CONSOLE_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'",
  "connect-src 'self'", "manifest-src 'self'", "form-action 'self'", "base-uri 'none'", "frame-ancestors 'none'",
].join('; ')

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2', '.txt': 'text/plain; charset=utf-8',
}

const PAGE_HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
}

/** Every file of the build, by its path under /console/ (read once: the build is small). */
function readBuild(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>()
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = join(d, name)
      if (statSync(full).isDirectory()) walk(full)
      else files.set(relative(dir, full).split(sep).join('/'), readFileSync(full))
    }
  }
  if (existsSync(join(dir, 'index.html'))) walk(dir)
  return files
}

const NOT_BUILT = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Console not built</title></head><body><main><h1>The console is not built</h1><p>Run <code>npm install</code> (or <code>npm run build:console</code>) and start the server again.</p></main></body></html>'

/**
 * The console's pages at `/console`: its assets as built, and `index.html` for `/console` and
 * every client route under it (`/console/people/…`), with the strict CSP. Hashed assets are
 * cached for a year; the page is never cached, so a new build is picked up at once.
 */
export async function consolePages(app: FastifyInstance, { dist = CONSOLE_DIST }: { dist?: string } = {}) {
  const files = readBuild(dist)
  const index = files.get('index.html')
  const sendIndex = (reply: import('fastify').FastifyReply) => {
    reply.headers(PAGE_HEADERS).type('text/html; charset=utf-8')
    return index ? reply.send(index) : reply.code(503).send(NOT_BUILT)
  }
  app.get('/console', { schema: { hide: true } }, async (_req, reply) => sendIndex(reply))
  app.get('/console/*', { schema: { hide: true } }, async (req, reply) => {
    const path = (req.params as { '*': string })['*']
    const file = files.get(path)
    if (file && path !== 'index.html') {
      reply.type(TYPES[extname(path)] ?? 'application/octet-stream')
      reply.header('cache-control', path.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache')
      return reply.send(file)
    }
    // A missing asset is a 404, not the page (a stale tab asking for an old build's file).
    if (path.startsWith('assets/') || path.startsWith('api/') || path === 'api') {
      return reply.code(404).type('application/json; charset=utf-8').send({ message: 'Not Found', code: 'not_found' })
    }
    return sendIndex(reply)
  })
}
