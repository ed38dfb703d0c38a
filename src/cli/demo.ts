import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Logger } from 'pino'
import type { Config } from '../config.ts'
import { parseContactCenterSetup } from '../core/contact-center/index.ts'
import type { IssuedCredentials, Tenant } from '../core/tenants/index.ts'
import { releaseLock, tryLock } from '../db/dir-lock.ts'
import type { Store } from '../db/store.ts'
import { toE164 } from '../lib/phone.ts'
import type { Services } from '../services.ts'

/** The console owner's sign-in that `tenant create` makes (issue 11): shown once. */
export interface ConsoleLogin {
  email: string
  password: string
}

/** The JSON `tenant create --json` prints (and `demo-tenant.json` holds); `console` when an owner login was made. */
export function credentialsJson(tenant: Tenant, c: IssuedCredentials, owner?: ConsoleLogin) {
  return { id: tenant.id, name: tenant.name, cass: c.cass, ccai: c.ccai, courier: c.courier, ...(owner ? { console: { email: owner.email, password: owner.password } } : {}) }
}

/**
 * The demo contact center's sign-ins, as `demo-tenant.json` keeps them under `contact_center`:
 * each agent's Apps API id, email and the password generated for this install, and the SMS number.
 */
export interface DemoContactCenter {
  agents: Array<{ id: number; email: string; password: string }>
  sms_number: string | null
  /** The number calls go out from and come in on (the setup's first voice number). */
  outbound_number: string | null
  /** An IVR queue taking calls (C3's `menu_id`), a mobile one (C4's), the demo campaign (K1–K7). */
  ivr_menu_id: number | null
  mobile_menu_id: number | null
  campaign_id: number | null
  /** The demo CRM ticket (C2's `ticket_id`): its contact is a sandbox number. */
  ticket_id: string | null
}

/** People the demo campaign calls: sandbox numbers, so nobody real is dialled. */
const DEMO_CAMPAIGN_CONTACTS = [
  { name: 'Rosa Diaz', phone: '+14155550123', email: 'rosa.diaz@demo.switchboard.local' },
  { name: 'Sam Lee', phone: '+14155550124', email: 'sam.lee@demo.switchboard.local' },
]

/** The tenant's web chat page URL (`/embed/1/{company}`), with the demo's look. */
function embedUrl(base: string, tenant: Tenant): string {
  const q = new URLSearchParams({ auth_code: tenant.embedCode, name: 'Tess', color: '228fb1', intro: 'Hello! I am here to help.' })
  return `${base}/embed/1/${encodeURIComponent(tenant.cassClient)}?${q.toString()}`
}

const htmlAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')

/** A new tenant's credentials with copy-paste examples against `config.publicUrl`. */
export function describeCredentials(config: Config, tenant: Tenant, c: IssuedCredentials, owner?: ConsoleLogin): string {
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
    ...(owner ? ['', `Console: ${base}/console  sign in as ${owner.email}  password ${owner.password}  (the owner; shown once)`] : []),
    '',
    `API docs: ${base}/docs`,
  ].join('\n')
}

/** The demo agents' sign-in lines (POST /agent/v1/login), and the SMS number. */
function describeContactCenter(config: Config, c: IssuedCredentials, cc: DemoContactCenter): string {
  return [
    `Contact center: agents sign in at POST ${config.publicUrl}/agent/v1/login {"email","password","company":"${c.ccai.subdomain}"}`,
    ...cc.agents.map((a) => `  agent ${a.id}  ${a.email}  ${a.password}`),
    ...(cc.sms_number ? [`  SMS number: ${cc.sms_number}`] : []),
    ...(cc.outbound_number ? [`  Voice number: ${cc.outbound_number}`] : []),
    `  IVR queue (menu_id) ${cc.ivr_menu_id ?? '-'}  mobile queue ${cc.mobile_menu_id ?? '-'}  campaign ${cc.campaign_id ?? '-'}  CRM ticket (ticket_id) ${cc.ticket_id ?? '-'}`,
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

/** The demo contact center `npm start` loads into the Demo tenant (after the threads its virtual agent needs). */
const DEMO_CONTACT_CENTER = fileURLToPath(new URL('../../examples/contact-center/demo.yaml', import.meta.url))

/**
 * The demo tenant gets the demo contact center; the agents' passwords are generated by this load
 * (per install, never in the repository) and returned with their Apps API ids. A failure to load it
 * must not stop the server: then undefined.
 */
async function loadDemoContactCenter(services: Services, tenant: Tenant, log: Logger): Promise<DemoContactCenter | undefined> {
  try {
    const source = readFileSync(DEMO_CONTACT_CENTER, 'utf8')
    const loaded = await services.ccSetup.load(tenant.id, source, 'yaml')
    const agents = await services.agents.list(tenant.id, { kind: 'all' })
    const nums = new Map(agents.map((a) => [a.email.toLowerCase(), a.num]))
    const doc = parseContactCenterSetup(source, 'yaml')
    const sms = doc.phone_numbers?.find((p) => p.sms !== false)
    const voice = doc.phone_numbers?.find((p) => p.voice !== false)
    const menus = await services.ccSetup.menus(tenant.id)
    const callQueue = (type: string) => menus.find((m) => m.leaf && m.menuType === type && m.channels.includes('call'))?.num ?? null
    const campaign = (await services.campaigns.list(tenant.id))[0]
    if (campaign) {
      for (const contact of DEMO_CAMPAIGN_CONTACTS) await services.campaigns.addContact(tenant.id, campaign.num, contact)
    }
    log.info({ tenantId: tenant.id, version: loaded.version, agents: loaded.agents }, 'loaded the demo contact center')
    return {
      agents: loaded.generatedPasswords.map((g) => ({ id: nums.get(g.email.toLowerCase())!, email: g.email, password: g.password })),
      sms_number: sms ? toE164(sms.number) ?? null : null,
      outbound_number: voice ? toE164(voice.number) ?? null : null,
      ivr_menu_id: callQueue('ivr_menu'),
      mobile_menu_id: callQueue('mobile_menu'),
      campaign_id: campaign?.num ?? null,
      ticket_id: doc.tickets?.[0]?.id ?? null,
    }
  } catch (err) {
    log.warn({ err }, 'could not load the demo contact center')
    return undefined
  }
}
// --- The demo directory (messaging API): a care team, two clinicians as users, a few patients. ---
const DEMO_DIRECTORY = fileURLToPath(new URL('../../examples/directory/demo.yaml', import.meta.url))

/** What `demo-tenant.json`'s `courier` block gains from the demo directory (nothing if it failed to load). */
type DemoDirectory = { user_id: string; user_token: string; individual_group_id: string; individual_ids: string[] } | Record<string, never>

/** Load the demo directory and issue the first clinician's user token (a failure must not stop the server). */
async function loadDemoDirectory(services: Services, tenant: Tenant, log: Logger): Promise<DemoDirectory> {
  try {
    await services.directory.import(tenant, { format: 'yaml', text: readFileSync(DEMO_DIRECTORY, 'utf8') })
    const { userId, token } = await services.directory.issueUserToken(tenant, 'grace.okafor@demo.switchboard.local')
    const group = await services.store.db.selectFrom('msg_individual_groups').select('id').where('tenant_id', '=', tenant.id).where('external_id', '=', 'north-care-team-a').executeTakeFirstOrThrow()
    const members = await services.directory.group(tenant, group.id)
    log.info({ tenantId: tenant.id }, 'loaded the demo directory')
    return { user_id: userId, user_token: token, individual_group_id: group.id, individual_ids: [...members.individualIds] }
  } catch (err) {
    log.warn({ err }, 'could not load the demo directory')
    return {}
  }
}
// --- end of the demo directory ---

// --- The demo message templates (issue 13): an appointment reminder with a Spanish variant, and more. ---
const DEMO_TEMPLATES = fileURLToPath(new URL('../../examples/templates/demo.yaml', import.meta.url))

/** Load the demo templates; their ids for `demo-tenant.json` (`courier.template_ids`), none if they failed to load. */
async function loadDemoTemplates(services: Services, tenant: Tenant, log: Logger): Promise<{ template_ids: string[] } | Record<string, never>> {
  try {
    const loaded = await services.templates.load(tenant, readFileSync(DEMO_TEMPLATES, 'utf8'), 'yaml')
    log.info({ tenantId: tenant.id, version: loaded.version, templates: loaded.templates }, 'loaded the demo templates')
    return { template_ids: [...loaded.templates] }
  } catch (err) {
    log.warn({ err }, 'could not load the demo templates')
    return {}
  }
}
// --- end of the demo message templates ---

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
 * First start of an empty store: a Demo tenant with the demo threads and the demo contact center,
 * whose credentials (and the agents' generated sign-ins) are printed and kept in
 * `<data dir>/demo-tenant.json` (the directory is made, also on PostgreSQL).
 * A later start says where that file is.
 */
export async function ensureDemoTenant(config: Config, services: Services, log: Logger, out: (text: string) => void): Promise<void> {
  const file = join(config.dataDir, 'demo-tenant.json')
  const created = await exclusively(services.store, config.dataDir, async () => {
    const tenants = await services.tenants.list()
    if (tenants.length > 0) return { kind: 'existing' as const, demo: tenants.some((t) => t.name === 'Demo') }
    // The tenant and its console owner in one transaction, as `tenant create` makes them.
    const { tenant, credentials, made } = await services.tenants.create('Demo', (trx, t) => services.console.createOwner(t, { trx }))
    const owner: ConsoleLogin = { email: made.user.email, password: made.password }
    await loadDemoThreads(services, tenant, log)
    const contactCenter = await loadDemoContactCenter(services, tenant, log)
    const directory = await loadDemoDirectory(services, tenant, log)
    const templates = await loadDemoTemplates(services, tenant, log)
    mkdirSync(config.dataDir, { recursive: true })
    const json = credentialsJson(tenant, credentials, owner)
    const saved = { ...json, courier: { ...json.courier, ...directory, ...templates }, ...(contactCenter ? { contact_center: contactCenter } : {}) }
    writeFileSync(file, JSON.stringify(saved, null, 2) + '\n', { mode: 0o600 })
    return { kind: 'created' as const, tenant, credentials, contactCenter, owner }
  })
  if (created.kind === 'created') {
    log.info({ tenantId: created.tenant.id, file }, 'created the demo tenant')
    const cc = created.contactCenter ? '\n\n' + describeContactCenter(config, created.credentials, created.contactCenter) : ''
    out('\n' + describeCredentials(config, created.tenant, created.credentials, created.owner) + cc + `\n(saved to ${file})\n\n`)
  } else if (existsSync(file)) {
    out(`The Demo tenant's credentials are in ${file}\n`)
  } else if (created.demo) {
    out(`The Demo tenant's credentials were printed by the first start (${file} is not on this machine).\n`)
  }
}
