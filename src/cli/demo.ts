import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Logger } from 'pino'
import type { Config } from '../config.ts'
import type { IssuedCredentials, Tenant } from '../core/tenants/index.ts'
import { releaseLock, tryLock } from '../db/dir-lock.ts'
import type { Store } from '../db/store.ts'
import type { Services } from '../services.ts'

/** The JSON `tenant create --json` prints (and `demo-tenant.json` holds). */
export function credentialsJson(tenant: Tenant, c: IssuedCredentials) {
  return { id: tenant.id, name: tenant.name, cass: c.cass, ccai: c.ccai, courier: c.courier }
}

/** The tenant's web chat page URL (`/embed/1/{company}`), with the demo's look. */
function embedUrl(base: string, tenant: Tenant): string {
  const q = new URLSearchParams({ auth_code: tenant.embedCode, name: 'Tess', color: '228fb1', intro: 'Hello! I am here to help.' })
  return `${base}/embed/1/${encodeURIComponent(tenant.cassClient)}?${q.toString()}`
}

const htmlAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')

/** A new tenant's credentials with copy-paste examples against `config.publicUrl`. */
export function describeCredentials(config: Config, tenant: Tenant, c: IssuedCredentials): string {
  const base = config.publicUrl
  const basic = Buffer.from(`${c.cass.client}:${c.cass.token}`).toString('base64')
  return [
    `Tenant "${tenant.name}" (${tenant.id})`,
    `  Person & bot API (Cass):  client=${c.cass.client}  token=${c.cass.token}`,
    `  Contact-center Apps API:  subdomain=${c.ccai.subdomain}  token=${c.ccai.token}  company_secret=${c.ccai.company_secret}`,
    `  Courier messaging API:    organization_id=${c.courier.organization_id}  api_key=${c.courier.api_key}`,
    '',
    'Try it:',
    `  curl -s -u '${c.cass.client}:${c.cass.token}' -H 'content-type: application/json' \\`,
    `    -d '{"first_name":"Jane","phone":"+14155552671","external_id":"jane-1"}' ${base}/external_person`,
    `  curl -s -H 'Authorization: Basic ${basic}' '${base}/external_person?external_id=jane-1'`,
    '',
    'Web chat (the bot in a browser; add &personId=<person_id> to chat as a known person):',
    `  ${embedUrl(base, tenant)}`,
    '  Popup on any page, one line:',
    `  <script src="${base}/embed/popup.js" data-company="${htmlAttr(tenant.cassClient)}" data-auth-code="${htmlAttr(tenant.embedCode)}" data-name="Tess" async></script>`,
    '',
    `API docs: ${base}/docs`,
  ].join('\n')
}

/** The demo bot content `npm start` loads into the Demo tenant. */
const DEMO_THREADS = fileURLToPath(new URL('../../examples/threads/demo.yaml', import.meta.url))

/** The demo tenant gets the demo threads (a failure to load them must not stop the server). */
async function loadDemoThreads(services: Services, tenant: Tenant, log: Logger): Promise<void> {
  try {
    const loaded = await services.threads.load(tenant, readFileSync(DEMO_THREADS, 'utf8'), 'yaml')
    log.info({ tenantId: tenant.id, version: loaded.version, threads: loaded.threads }, 'loaded the demo threads')
  } catch (err) {
    log.warn({ err }, 'could not load the demo threads')
  }
}

/** Key of the PostgreSQL advisory lock the first-start check holds ('SWDEMO'). */
const DEMO_LOCK_KEY = '91791547811151'

/**
 * Run `fn` alone among every process on this store: processes starting at once on an empty store
 * must not each create a Demo tenant. On PostgreSQL a session advisory lock on a connection of its
 * own; on the embedded store (one PGlite session, where advisory locks exclude nobody) a lock file
 * in the shared data directory.
 */
async function exclusively<T>(store: Store, dataDir: string, fn: () => Promise<T>): Promise<T> {
  if (store.kind === 'postgres') {
    // A session lock, not a transaction: the embedded store served over its socket (which a
    // DATABASE_URL may point at, as the tests do) runs one transaction at a time, so a transaction
    // held open here would wait for `fn`'s own statements on other connections forever.
    const client = await store.pool.connect()
    try {
      await client.query('SELECT pg_advisory_lock($1::bigint)', [DEMO_LOCK_KEY])
      try {
        return await fn()
      } finally {
        await client.query('SELECT pg_advisory_unlock($1::bigint)', [DEMO_LOCK_KEY]).catch(() => {})
      }
    } finally {
      client.release()
    }
  }
  const file = join(dataDir, 'demo-tenant.lock')
  while (!tryLock(file)) await new Promise((r) => setTimeout(r, 100))
  try {
    return await fn()
  } finally {
    releaseLock(file)
  }
}

/**
 * First start of an empty store: a Demo tenant with the demo threads, whose credentials are
 * printed and kept in `<data dir>/demo-tenant.json` (the directory is made, also on PostgreSQL).
 * A later start says where that file is.
 */
export async function ensureDemoTenant(config: Config, services: Services, log: Logger, out: (text: string) => void): Promise<void> {
  const file = join(config.dataDir, 'demo-tenant.json')
  const created = await exclusively(services.store, config.dataDir, async () => {
    const tenants = await services.tenants.list()
    if (tenants.length > 0) return { kind: 'existing' as const, demo: tenants.some((t) => t.name === 'Demo') }
    const { tenant, credentials } = await services.tenants.create('Demo')
    await loadDemoThreads(services, tenant, log)
    mkdirSync(config.dataDir, { recursive: true })
    writeFileSync(file, JSON.stringify(credentialsJson(tenant, credentials), null, 2) + '\n', { mode: 0o600 })
    return { kind: 'created' as const, tenant, credentials }
  })
  if (created.kind === 'created') {
    log.info({ tenantId: created.tenant.id, file }, 'created the demo tenant')
    out('\n' + describeCredentials(config, created.tenant, created.credentials) + `\n(saved to ${file})\n\n`)
  } else if (existsSync(file)) {
    out(`The Demo tenant's credentials are in ${file}\n`)
  } else if (created.demo) {
    out(`The Demo tenant's credentials were printed by the first start (${file} is not on this machine).\n`)
  }
}
