import { generateKeyPairSync } from 'node:crypto'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { seedPerson } from '../../../test/helpers/cass.ts'
import { operations, type Op } from '../../../test/helpers/openapi-ops.ts'

// Tenant isolation across every operation of the messaging API, from its OpenAPI document: tenant A
// has one of everything (individuals, a care team and its user, a channel, a message with a
// reaction, an attachment, a bookmark, a bulk message and its attachment, a plugin, a responder, an
// announcer, an aggregation request, an org preference, a sniffer, a replicator); tenant B calls every
// operation with A's ids — in the path, in the scoping query parameters, and in the body's
// references — and with ids that exist nowhere. A's ids must be indistinguishable from the nowhere
// ones (same status, same body once the ids are blanked), nothing of A may show in any answer B gets,
// and A's data is unchanged afterwards. A new resource type must name A's id of it below, or this
// test fails.
let t: TestApp
let a: TestTenant
let b: TestTenant
const A: Record<string, string> = {}
const MARKERS = ['Isomarker-Patient', 'iso-secret-text-of-a', 'iso.clinician@a.example', 'Iso-Team-A', 'iso-plugin-a', 'iso-responder-a', 'iso-announcer-a', 'iso-template-text-of-a', 'iso-app-cred-a', 'iso-device-model-a', 'iso-email-subject-a']
let nowhereN = 0
/** An id of the right shape that exists nowhere (a fresh one for each use, so bodies differ only by ids). */
const nowhere = () => `00000000-0000-4000-8000-${String(++nowhereN).padStart(12, '0')}`

function call(tt: TestTenant, method: string, url: string, body?: unknown) {
  return t.app.inject({
    method: method as 'GET', url,
    headers: { authorization: `Bearer ${tt.credentials.courier.api_key}`, ...(body !== undefined ? { 'content-type': 'application/vnd.api+json' } : {}) },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  })
}

async function created(tt: TestTenant, url: string, type: string, attributes: Record<string, unknown>): Promise<string> {
  const r = await call(tt, 'POST', url, { data: { type, attributes } })
  expect(r.statusCode, `${url} ${r.body}`).toBe(201)
  return (JSON.parse(r.body) as { data: { id: string } }).data.id
}

/** The path's resource type → A's id of it (for `{id}`). */
const PATH_TYPES: Array<[string, string]> = [
  ['/v1/messaging-channels/', 'channel'], ['/v1/messaging-messages/', 'message'], ['/v1/organizations/', 'organization'],
  ['/v1/individuals/', 'individual'], ['/v1/individual-groups/', 'group'], ['/v1/users/', 'user'],
  ['/v1/messaging-attachments/', 'attachment'], ['/v1/messaging-bookmarks/', 'bookmark'], ['/v1/replicators/', 'replicator'],
  ['/v1/sniffers/', 'sniffer'], ['/v1/messaging-plugins/', 'plugin'], ['/v1/messaging-responders/', 'responder'],
  ['/v1/messaging-bulk-messages/', 'bulk'], ['/v1/messaging-bulk-attachments/', 'bulkAttachment'], ['/v1/announcers/', 'announcer'],
  ['/v1/aggregation-requests/', 'aggregation'], ['/v1/org-preferences/', 'preference'], ['/v1/messaging-operations/', 'operation'], ['/v1/purge-data/', 'purge'],
  ['/v1/app-credentials/', 'appCredential'], ['/v1/badge-counts/', 'badgeCount'], ['/v1/user-devices/', 'device'],
  ['/v1/user-email-attachments/', 'emailAttachment'], ['/v1/user-emails/', 'email'],
  ['/v1/multicasts/', 'multicast'],
  // Texts and numbers (#92–#113)
  ['/v1/text-account-numbers/', 'textNumber'], ['/v1/text-accounts/', 'textAccount'], ['/v1/text-number-info/', 'textNumberInfo'],
  ['/v1/text-receive-logs/', 'textReceiveLog'], ['/v1/text-user-number-maps/', 'textUserNumberMap'], ['/v1/texts/', 'text'],
  ['/v1/user-consents/', 'consent'], ['/v1/user-notifications/', 'notification'],
]
/** A reference's name (query parameter or attribute) → A's id it names. */
const REFERENCES: Record<string, string> = {
  'organization-id': 'organization', 'channel-id': 'channel', 'individual-id': 'individual', 'filter[individual-id]': 'individual',
  'message-id': 'message', 'user-id': 'user', 'individual-group-id': 'group', 'filter[individual-group-id]': 'group',
  'filter[channel-id]': 'channel', 'bulk-message-id': 'bulk', 'sender-individual-id': 'individual', 'sender-individual-group-id': 'group',
  'filter[created-by]': 'individual', 'profile-individual-id': 'individual', 'entity-id': 'individual',
  'email-id': 'email', 'sender-organization-id': 'organization',
  // Texts and numbers
  'account-id': 'textAccount', 'number-id': 'textNumber', 'filter[number-id]': 'textNumber',
  'filter[user-id]': 'user', 'filter[organization-id]': 'organization',
}
const LISTS: Record<string, string> = { 'individual-ids': 'individual', 'individual-group-ids': 'group' }

beforeAll(async () => {
  t = await startTestApp()
  a = await createTenant(t.services)
  b = await createTenant(t.services)
  const patient = await seedPerson(t, a, { phone: uniquePhone(), firstName: 'Isomarker-Patient', externalId: 'iso-patient' })
  const other = await seedPerson(t, b, { phone: uniquePhone(), externalId: 'b-person' })
  await t.services.directory.import(a.tenant, { format: 'yaml', text: `individuals:
  - { external_id: iso-clinician, first_name: Iso, last_name: Clinician, account_type: clinician }
users:
  - { email: iso.clinician@a.example, first_name: Iso, last_name: Clinician, individual: iso-clinician }
groups:
  - { external_id: iso-team, name: Iso-Team-A, individuals: [iso-patient], users: [iso.clinician@a.example] }
  - { external_id: iso-team-2, name: Iso-Team-A2, individuals: [] }
` })
  void other
  const org = a.credentials.courier.organization_id
  A.organization = org
  A.individual = patient.cassId
  A.group = (await t.store.db.selectFrom('msg_individual_groups').select('id').where('tenant_id', '=', a.tenant.id).where('external_id', '=', 'iso-team').executeTakeFirstOrThrow()).id
  const team2 = (await t.store.db.selectFrom('msg_individual_groups').select('id').where('tenant_id', '=', a.tenant.id).where('external_id', '=', 'iso-team-2').executeTakeFirstOrThrow()).id
  A.user = (await t.store.db.selectFrom('msg_users').select('id').where('tenant_id', '=', a.tenant.id).executeTakeFirstOrThrow()).id
  A.channel = await created(a, '/v1/messaging-channels/', 'messaging-channels', { 'organization-id': org, 'individual-group-id': A.group, 'individual-ids': [A.individual], name: 'Iso channel' })
  A.message = await created(a, '/v1/messaging-messages/', 'messaging-messages', { 'channel-id': A.channel, 'individual-id': A.individual, message: 'iso-secret-text-of-a' })
  expect((await call(a, 'POST', `/v1/messaging-messages/${A.message}/add-reaction/`, { 'reaction-type': 'like', 'individual-id': A.individual })).statusCode).toBe(201)
  A.attachment = (await t.services.attachments.create(a.tenant, { messageId: A.message, contentType: 'image/png' })).id
  A.bookmark = (await t.services.bookmarks.create(a.tenant, { channelId: A.channel, messageId: A.message })).id
  const bulk = await t.services.bulkMessages.create(a.tenant, { createdBy: A.individual, draft: true, individualIds: [A.individual], message: 'iso-secret-text-of-a in bulk' })
  A.bulk = bulk.id
  A.bulkAttachment = (await t.services.attachments.createForBulk(a.tenant, { bulkMessageId: bulk.id, contentType: 'application/pdf' })).id
  A.plugin = (await t.services.messagingPlugins.create(a.tenant, { organizationId: org, name: 'iso-plugin-a', type: 'template', args: { template: 'Hi {{name}}' } }, org)).id
  A.responder = (await t.services.messagingResponders.create(a.tenant, { organizationId: org, individualGroupId: A.group, name: 'iso-responder-a', type: 'auto-reply', args: { message: 'Away' } }, org)).id
  A.announcer = (await t.services.announcers.create(a.tenant, { organizationId: org, name: 'iso-announcer-a', type: 'webhook', event: 'message-posted', args: { url: 'https://hooks.example.com/iso', secret: 'iso-secret-0123456789abc' } }, org)).id
  A.aggregation = (await t.services.aggregations.create(a.tenant, [{ column: 'unread-count', individualId: A.individual }], org)).id
  A.preference = await created(a, '/v1/org-preferences/', 'org-preferences', { name: 'default-channel-title', 'organization-id': org, type: 'string', value: 'Iso-Team-A title' })
  A.sniffer = await created(a, '/v1/sniffers/', 'sniffers', { 'user-id': A.user, 'valid-until': new Date(Date.now() + 3_600_000).toISOString() })
  A.operation = (await t.services.operations.create(a.tenant, { organizationId: org, type: 'move-group', args: { 'from-individual-group-id': team2, 'to-individual-group-id': A.group } }, org)).id
  // A purge of another individual of A's, recorded (no workers here: it stays queued).
  const leaving = await seedPerson(t, a, { phone: uniquePhone(), externalId: 'iso-leaving' })
  A.purge = 'iso-purge-request-of-a'
  expect((await call(a, 'POST', '/v1/purge-data/', { data: { type: 'system-purges', attributes: { 'entity-id': leaving.cassId, 'entity-type': 'individual', 'request-id': A.purge } } })).statusCode).toBe(201)
  // Push: an app credential, a device of the patient (with one push logged) and a badge count.
  const p8 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  A.appCredential = await created(a, '/v1/app-credentials/', 'app-credentials', { 'app-name': 'iso-app', 'display-name': 'iso-app-cred-a', 'organization-id': org, 'store-id': 'org.example.iso', type: 'apn', data: { 'key-id': 'ISOKEY0001', 'team-id': 'ISOTEAM001', p8 } })
  A.device = await created(a, '/v1/user-devices/', 'user-devices', { 'individual-id': A.individual, type: 'fcm', token: 'iso-token-of-a', model: 'iso-device-model-a', 'app-name': 'iso-app' })
  await t.services.push.sendToIndividual(a.tenant, A.individual, { title: 'iso', body: 'iso-secret-text-of-a' })
  A.badgeCount = await created(a, '/v1/badge-counts/', 'badge-counts', { 'individual-id': A.individual, 'organization-id': org, count: 3, type: 'appointment' })
  const replicators = JSON.parse((await call(a, 'GET', '/v1/replicators/')).body) as { data: Array<{ id: string }> }
  expect(replicators.data.length).toBeGreaterThan(0)
  A.replicator = replicators.data[0]!.id
  // Message templates are the tenant's (validate-multicast-params, #139): A has one, B asks for it by id.
  await t.services.templates.load(a.tenant, 'templates:\n  iso-template-a:\n    sms: "iso-template-text-of-a {{ data.x }}"\n', 'yaml')
  // User emails: a draft about the patient and a pending attachment of it.
  A.email = await created(a, '/v1/user-emails/', 'user-emails', { 'individual-id': A.individual, subject: 'iso-email-subject-a', message: 'iso-secret-text-of-a', to: 'iso.patient@a.example' })
  A.emailAttachment = (await t.services.userEmails.createAttachment(a.tenant, { emailId: A.email, contentType: 'application/pdf', filename: 'iso.pdf' }, { kind: 'organization' })).id
  // A multicast of that template to A's patient (no workers here: it stays sending, its recipient pending).
  A.multicast = (await t.services.multicasts.create(a.tenant, {
    kind: 'multicast', createdBy: org, organizationId: org, templateId: 'iso-template-a', data: { x: 'iso-secret-text-of-a' }, filterType: 'individuals', filterValue: { 'individual-ids': [A.individual] },
    pointers: { templateId: '', data: '', organizationId: '', filterType: '', filterValue: '' },
  }, { kind: 'organization' })).id
  // Texts and numbers: an account with a number (sandbox), a text from it, an inbound text to it, a lookup and a user pinned to the number.
  A.textAccount = (await t.services.texts.createAccount(a.tenant, { organizationId: org })).id
  const textNumber = await t.services.texts.createNumber(a.tenant, { accountId: A.textAccount, areaCode: '212', notes: 'iso-secret-text-of-a' })
  A.textNumber = textNumber.id
  A.text = (await t.services.texts.createText(a.tenant, { accountId: A.textAccount, target: uniquePhone(), message: 'iso-secret-text-of-a' }, org)).id
  A.textReceiveLog = 'SMisoreceivelogofa'
  await t.store.db.insertInto('text_receive_logs').values({ tenant_id: a.tenant.id, id: A.textReceiveLog, number_id: A.textNumber, sender: uniquePhone(), recipient: textNumber.phoneNumber, message: 'iso-secret-text-of-a' }).execute()
  A.textNumberInfo = (await t.services.texts.lookupNumber(a.tenant, { number: '+12125550143' })).id
  A.textUserNumberMap = (await t.services.texts.createUserNumberMap(a.tenant, { organizationId: org, numberId: A.textNumber, userId: A.user })).id
  // User consents and user notifications: a consent asked of A's user (it has a phone), and the
  // notification the push above recorded for A's patient.
  await t.store.db.updateTable('msg_users').set({ phone: uniquePhone() }).where('tenant_id', '=', a.tenant.id).where('id', '=', A.user).execute()
  A.consent = await created(a, '/v1/user-consents/', 'user-consents', { args: { messages: { initial: 'iso-secret-text-of-a', accept: 'ok', 'invalid-response': 'again' } }, 'organization-id': org, type: 'sms', 'user-id': A.user })
  A.notification = (await t.store.db.selectFrom('msg_user_notifications').select('id').where('tenant_id', '=', a.tenant.id).executeTakeFirstOrThrow()).id
})
afterAll(async () => t?.close())

/** What A looks like from its own side: every row of the messaging tables, compared before and after. */
async function aState(): Promise<string> {
  const tables = ['msg_org_preferences', 'msg_channels', 'msg_channel_subscribers', 'msg_messages', 'msg_reactions', 'msg_channel_sms', 'msg_attachments', 'msg_bookmarks',
    'msg_sniffers', 'msg_plugins', 'msg_responders', 'msg_bulk_messages', 'msg_bulk_recipients', 'msg_bulk_attachments', 'msg_announcers', 'msg_aggregation_requests',
    'msg_individual_groups', 'msg_users', 'msg_operations', 'privacy_purges',
    'msg_app_credentials', 'msg_user_devices', 'msg_user_device_logs', 'msg_badge_counts', 'user_emails', 'user_email_attachments', 'msg_multicasts', 'msg_multicast_recipients',
    'text_accounts', 'text_account_numbers', 'text_number_logs', 'text_receive_logs', 'text_number_info', 'text_user_number_maps', 'texts',
    'msg_user_consents', 'msg_user_notifications'] as const
  const out: Record<string, unknown> = {}
  for (const table of tables) {
    out[table] = await t.store.db.selectFrom(table).selectAll().where('tenant_id', '=', a.tenant.id).execute()
  }
  return JSON.stringify(out, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))
}

/** The A-id or nowhere-id of a reference name, or undefined when the name references nothing. */
function refOf(name: string, theirs: boolean, used: string[]): string | undefined {
  const kind = REFERENCES[name]
  if (!kind) return undefined
  const id = theirs ? A[kind]! : nowhere()
  used.push(id)
  return id
}

/** One request of B aimed at A (`theirs`) or at nothing: the URL, the body and every id it used. */
function request(op: Op, theirs: boolean): { url: string; body: unknown; used: string[] } {
  const used: string[] = []
  const type = PATH_TYPES.find(([prefix]) => op.path.startsWith(prefix))
  let url = op.path
  if (url.includes('{id}')) {
    expect(type, `${op.method} ${op.path}: name tenant A's id of this resource type in PATH_TYPES`).toBeDefined()
    const id = theirs ? A[type![1]]! : nowhere()
    used.push(id)
    url = url.replace('{id}', id)
  }
  const query = op.query.map((q) => [q, refOf(q, theirs, used)] as const).filter(([, v]) => v !== undefined)
  if (query.length > 0) url += `?${query.map(([q, v]) => `${encodeURIComponent(q)}=${v}`).join('&')}`
  if (op.method === 'GET') return { url, body: undefined, used }
  const refs = (names: string[]) => Object.fromEntries(names.flatMap((n): Array<[string, unknown]> => {
    if (LISTS[n]) {
      const id = theirs ? A[LISTS[n]]! : nowhere()
      used.push(id)
      return [[n, [id]]]
    }
    const v = refOf(n, theirs, used)
    return v === undefined ? [] : [[n, v]]
  }))
  if (op.attributes.length > 0 || op.fields.includes('data')) {
    const resourceType = op.path.split('/')[2]!
    const data: Record<string, unknown> = { type: resourceType, attributes: refs(op.attributes) }
    if (op.method === 'PATCH') data.id = used[0]
    return { url, body: { data }, used }
  }
  return { url, body: refs(op.fields), used }
}

/** An answer with the ids it was asked about blanked: what must not differ between A's ids and nowhere. */
function blanked(body: string, used: string[]): string {
  let out = body
  for (const id of used) out = out.replaceAll(id, '#')
  return out
}

it('another tenant’s ids answer as ids that exist nowhere, on every operation, and leave its data alone', async () => {
  const ops = await operations(t.app, 'courier', '')
  expect(ops.length).toBeGreaterThan(60)
  const before = await aState()
  const aimed = ops.filter((op) => op.path.includes('{id}') || op.query.some((q) => REFERENCES[q]) || [...op.attributes, ...op.fields].some((f) => REFERENCES[f] || LISTS[f]))
  expect(aimed.length).toBeGreaterThan(50)
  for (const op of aimed) {
    const n = request(op, false)
    const theirs = request(op, true)
    const rn = await call(b, op.method, n.url, n.body)
    const rt = await call(b, op.method, theirs.url, theirs.body)
    const what = `${op.method} ${theirs.url}`
    expect(rt.statusCode, `${what} → ${rt.body.slice(0, 300)}`).toBe(rn.statusCode)
    // A path id or a scoping reference of A's is refused; a filter on A's id just matches nothing (as on a nowhere id).
    const scoped = op.path.includes('{id}') || op.query.some((q) => REFERENCES[q] && !q.startsWith('filter[')) || op.method !== 'GET'
    if (scoped) expect(rt.statusCode, `${what} → ${rt.body.slice(0, 300)}`).toBeGreaterThanOrEqual(400)
    expect(blanked(rt.body, theirs.used), what).toBe(blanked(rn.body, n.used))
    for (const m of MARKERS) expect(rt.body, what).not.toContain(m)
  }
  expect(await aState()).toEqual(before)
}, 120_000)

it('no list of another tenant shows anything of this one, while this one’s own lists do', async () => {
  const ops = await operations(t.app, 'courier', '')
  const lists = ops.filter((op) => op.method === 'GET' && !op.path.includes('{'))
  expect(lists.length).toBeGreaterThan(10)
  let mine = ''
  for (const op of lists) {
    // Lists that need a scope get the caller's own organisation.
    const url = op.query.includes('organization-id') ? `${op.path}?organization-id=${b.credentials.courier.organization_id}` : op.path
    const r = await call(b, 'GET', url)
    for (const m of MARKERS) expect(r.body, `GET ${url}`).not.toContain(m)
    const own = op.query.includes('organization-id') ? `${op.path}?organization-id=${A.organization}` : op.path
    mine += (await call(a, 'GET', own)).body
  }
  // The markers are real: A's own answers show them.
  for (const m of ['Iso-Team-A', 'iso-plugin-a', 'iso-responder-a', 'iso-announcer-a', 'iso-app-cred-a', 'iso-device-model-a']) expect(mine).toContain(m)
}, 120_000)
