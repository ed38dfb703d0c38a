import { generateKeyPairSync } from 'node:crypto'
import fc from 'fast-check'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { seedPerson } from '../../../test/helpers/cass.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { expectJsonApiError } from '../../../test/helpers/jsonapi.ts'
import { operations } from '../../../test/helpers/openapi-ops.ts'

// Every operation of the messaging API, from its OpenAPI document, with random ids, query values and
// JSON:API bodies (the right attribute names with wrong or hostile values, wrong types, extra
// members): never a 5xx, every refusal one §1.7 error object, and a refused request writes nothing.
let t: TestApp
let tt: TestTenant
let ids: string[] = []
beforeAll(async () => {
  t = await startTestApp()
  tt = await createTenant(t.services)
  // Real ids to aim at: two individuals, a channel of theirs, a message in it.
  const [p1, p2] = [await seedPerson(t, tt, { phone: uniquePhone() }), await seedPerson(t, tt, { phone: uniquePhone() })]
  const channel = await t.services.channels.create(tt.tenant, { organizationId: tt.credentials.courier.organization_id, individualIds: [p1!.cassId], actingIndividualId: p2!.cassId })
  const message = await t.services.messages.post(tt.tenant, { channelId: channel.id, message: 'hello', individualId: p2!.cassId })
  // An attachment of the message (pending) and a bookmark of it, for the item operations of #30–#32 and #35.
  const attachment = await t.services.attachments.create(tt.tenant, { messageId: message.id, contentType: 'image/png' })
  const bookmark = await t.services.bookmarks.create(tt.tenant, { channelId: channel.id, messageId: message.id })
  // A draft bulk message (#42, #43) and a pending attachment of it (#38, #39).
  const bulk = await t.services.bulkMessages.create(tt.tenant, { createdBy: tt.tenant.id, draft: true, individualIds: [p1!.cassId], message: 'hello all' })
  const bulkAttachment = await t.services.attachments.createForBulk(tt.tenant, { bulkMessageId: bulk.id, contentType: 'application/pdf' })
  ids = [p1!.cassId, p2!.cassId, channel.id, message.id, attachment.id, bookmark.id, bulk.id, bulkAttachment.id]
  // A care team with a responder and a plugin (#66–#78), so their operations meet real ids too.
  await t.services.directory.import(tt.tenant, { format: 'yaml', text: 'groups:\n  - { external_id: team, name: Team, individuals: [] }\n' })
  const team = await t.store.db.selectFrom('msg_individual_groups').select('id').where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()
  const org = tt.credentials.courier.organization_id
  const plugin = await t.services.messagingPlugins.create(tt.tenant, { organizationId: org, name: 'greeting', type: 'template', args: { template: 'Hi {{name}}' } }, org)
  const responder = await t.services.messagingResponders.create(tt.tenant, { organizationId: org, individualGroupId: team.id, name: 'Away', type: 'auto-reply', args: { message: 'Away' } }, org)
  ids.push(team.id, plugin.id, responder.id)
  // An announcer (#2–#5) and an aggregation request (#1, read back by id).
  const announcer = await t.services.announcers.create(tt.tenant, { organizationId: org, name: 'hook', type: 'webhook', event: 'message-posted', args: { url: 'https://hooks.example.com/x', secret: 'fuzz-secret-0123456789' } }, org)
  const aggregation = await t.services.aggregations.create(tt.tenant, [{ column: 'unread-count', individualId: p1!.cassId }], org)
  ids.push(announcer.id, aggregation.id)
  // A second care team and a move-group operation between the two (#63–#65), for their ids.
  await t.services.directory.import(tt.tenant, { format: 'yaml', text: 'groups:\n  - { external_id: team, name: Team, individuals: [] }\n  - { external_id: team2, name: Team 2, individuals: [] }\n' })
  const team2 = await t.store.db.selectFrom('msg_individual_groups').select('id').where('tenant_id', '=', tt.tenant.id).where('external_id', '=', 'team2').executeTakeFirstOrThrow()
  const operation = await t.services.operations.create(tt.tenant, { organizationId: org, type: 'move-group', args: { 'from-individual-group-id': team.id, 'to-individual-group-id': team2.id } }, org)
  ids.push(team2.id, operation.id)
  // Push (#6–#9, #18–#21, #118–#120): an APNs credential, a device of p1 with a push logged, a badge count.
  const p8 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const credential = await t.services.appCredentials.create(tt.tenant, { organizationId: org, type: 'apn', appName: 'fuzz-app', storeId: 'org.example.fuzz', data: { 'key-id': 'FUZZKEY001', 'team-id': 'FUZZTEAM01', p8 } })
  const device = await t.services.userDevices.register(tt.tenant, { individualId: p1!.cassId, type: 'fcm', token: 'fuzz-token', appName: 'fuzz-app' }, { kind: 'organization' })
  await t.services.push.sendToIndividual(tt.tenant, p1!.cassId, { title: 'fuzz', body: 'fuzz' })
  const badge = await t.services.badgeCounts.set(tt.tenant, { count: 1, individualId: p1!.cassId, organizationId: org, type: 'appointment' }, { kind: 'organization' })
  ids.push(credential.id, device.id, badge.id)
  // User emails (#121–#128): a draft about p1 and a pending attachment of it.
  const email = await t.services.userEmails.create(tt.tenant, { individualId: p1!.cassId, subject: 'fuzz', message: 'fuzz', to: 'fuzz@example.org' }, { kind: 'organization' })
  const emailAttachment = await t.services.userEmails.createAttachment(tt.tenant, { emailId: email.id, contentType: 'application/pdf' }, { kind: 'organization' })
  ids.push(email.id, emailAttachment.id)
  // Texts and numbers (#92–#113): a sandbox account with a number, a text from it, a lookup and a received text.
  const textAccount = await t.services.texts.createAccount(tt.tenant, { organizationId: org })
  const textNumber = await t.services.texts.createNumber(tt.tenant, { accountId: textAccount.id, areaCode: '212' })
  const text = await t.services.texts.createText(tt.tenant, { accountId: textAccount.id, target: uniquePhone(), message: 'fuzz' }, org)
  const info = await t.services.texts.lookupNumber(tt.tenant, { number: '+12125550143' })
  await t.store.db.insertInto('text_receive_logs').values({ tenant_id: tt.tenant.id, id: 'SMfuzzreceived', number_id: textNumber.id, sender: uniquePhone(), recipient: textNumber.phoneNumber, message: 'fuzz' }).execute()
  ids.push(textAccount.id, textNumber.id, text.id, info.id, 'SMfuzzreceived')
  // User consents and user notifications (#115–#117, #131–#134): the notification the push above recorded, and a user with a phone.
  ids.push((await t.store.db.selectFrom('msg_user_notifications').select('id').where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()).id)
  await t.services.directory.import(tt.tenant, { format: 'yaml', text: `users:\n  - { email: fuzz.user@example.org, phone: "${uniquePhone()}" }\n` })
  ids.push((await t.store.db.selectFrom('msg_users').select('id').where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()).id)
})
afterAll(async () => t?.close())

const hostile = fc.constantFrom('', ' ', '\u0000', 'a\u0000b', '%00', '-1', '0', '1', '1001', '99999999999999999999', 'true', 'null', '[]', '{}',
  '<script>', '../../etc/passwd', '11111111-1111-1111-1111-111111111111', '>=2024-01-01T00:00:00Z', '<2024-13-45', 'default-channel-title', 'x'.repeat(3000))
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    hostile, fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
    fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(fc.constantFrom('type', 'id', 'value', 'name', 'a'), tie('v'), { maxKeys: 3 })),
})).v

/** What the tenant has written: the tables the messaging API writes to. */
const COUNTED = ['msg_org_preferences', 'msg_channels', 'msg_channel_subscribers', 'msg_messages', 'msg_reactions', 'msg_channel_sms', 'msg_attachments', 'msg_bookmarks', 'msg_sniffers', 'msg_replicators', 'msg_plugins', 'msg_responders', 'msg_responder_replies',
  'msg_bulk_messages', 'msg_bulk_recipients', 'msg_bulk_attachments',
  'msg_announcers', 'msg_aggregation_requests', 'msg_operations',
  // Purge-data (#86): a refused purge records nothing and erases nothing.
  'privacy_purges', 'people', 'person_identities',
  // Push: app credentials, user devices and their logs, badge counts.
  'msg_app_credentials', 'msg_user_devices', 'msg_user_device_logs', 'msg_badge_counts',
  // User emails and their attachments; a refused send queues nothing.
  'user_emails', 'user_email_attachments',
  // Templated multicasts: a refused one records no multicast, no recipient and no send.
  'msg_multicasts', 'msg_multicast_recipients', 'outbox_messages',
  // Texts and numbers: a refused request provisions, logs, pins and sends nothing.
  'text_accounts', 'text_account_numbers', 'text_number_logs', 'text_receive_logs', 'text_number_info', 'text_user_number_maps', 'texts',
  // User consents (a refused one sends nothing) and user notifications.
  'msg_user_consents', 'msg_user_notifications'] as const
async function counts(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  for (const table of COUNTED) {
    const r = await t.store.db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()
    out[table] = Number(r.n)
  }
  // Changes in place count too: the latest change of any channel or message.
  const c = await t.store.db.selectFrom('msg_channels').select((eb) => eb.fn.max('last_modified_at').as('at')).where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()
  const m = await t.store.db.selectFrom('msg_messages').select((eb) => eb.fn.max('last_modified_at').as('at')).where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()
  const pl = await t.store.db.selectFrom('msg_plugins').select((eb) => eb.fn.max('last_modified_at').as('at')).where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()
  const re = await t.store.db.selectFrom('msg_responders').select((eb) => eb.fn.max('last_modified_at').as('at')).where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()
  const bm = await t.store.db.selectFrom('msg_bulk_messages').select((eb) => eb.fn.max('last_modified_at').as('at')).where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()
  const ba = await t.store.db.selectFrom('msg_bulk_attachments').select((eb) => eb.fn.max('last_modified_at').as('at')).where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()
  const an = await t.store.db.selectFrom('msg_announcers').select((eb) => eb.fn.max('last_modified_at').as('at')).where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()
  const ac = await t.store.db.selectFrom('msg_app_credentials').select((eb) => eb.fn.max('last_modified_at').as('at')).where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()
  const ud = await t.store.db.selectFrom('msg_user_devices').select((eb) => eb.fn.max('last_modified_at').as('at')).where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()
  const bc = await t.store.db.selectFrom('msg_badge_counts').select((eb) => eb.fn.max('last_modified_at').as('at')).where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()
  const ue = await t.store.db.selectFrom('user_emails').select((eb) => eb.fn.max('last_modified_at').as('at')).where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()
  out.changed = [String(ue.at), String(c.at), String(m.at), String(pl.at), String(re.at), String(bm.at), String(ba.at), String(an.at), String(ac.at), String(ud.at), String(bc.at)]
  return out
}

it('no operation answers 5xx; refusals are §1.7 error objects and write nothing', async () => {
  const ops = await operations(t.app, 'courier', '')
  expect(ops.length).toBeGreaterThanOrEqual(20)
  expect(ops.map((o) => `${o.method} ${o.path}`)).toEqual(expect.arrayContaining([
    'GET /v1/messaging-attachments/', 'POST /v1/messaging-attachments/{id}/process-upload/', 'PATCH /v1/messaging-attachments/{id}/', 'POST /v1/messaging-bookmarks/', 'GET /v1/messaging-bookmarks/{id}/',
    'GET /v1/messaging-plugins/', 'POST /v1/messaging-plugins/{id}/expand/', 'PATCH /v1/messaging-responders/{id}/', 'POST /v1/messaging-responders/{id}/enable/',
    'POST /v1/sniffers/', 'GET /v1/sniffers/{id}/get-logs/', 'GET /v1/replicators/',
    'GET /v1/messaging-bulk-messages/', 'POST /v1/messaging-bulk-messages/', 'GET /v1/messaging-bulk-messages/{id}/', 'PATCH /v1/messaging-bulk-messages/{id}/',
    'GET /v1/messaging-bulk-attachments/', 'POST /v1/messaging-bulk-attachments/', 'GET /v1/messaging-bulk-attachments/{id}/', 'POST /v1/messaging-bulk-attachments/{id}/process-upload/',
    'GET /v1/announcers/', 'POST /v1/announcers/', 'GET /v1/announcers/{id}/', 'PATCH /v1/announcers/{id}/', 'POST /v1/aggregation-requests/', 'GET /v1/aggregation-requests/{id}/',
    'GET /v1/messaging-operations/', 'POST /v1/messaging-operations/', 'GET /v1/messaging-operations/{id}/', 'GET /v1/messaging-channels/{id}/get-profile/',
    'POST /v1/purge-data/', 'GET /v1/purge-data/{id}/',
    'GET /v1/app-credentials/', 'POST /v1/app-credentials/', 'GET /v1/app-credentials/{id}/', 'PATCH /v1/app-credentials/{id}/',
    'GET /v1/badge-counts/', 'POST /v1/badge-counts/', 'GET /v1/badge-counts/{id}/', 'POST /v1/bulk-badge-counts/',
    'GET /v1/user-devices/', 'POST /v1/user-devices/', 'GET /v1/user-devices/{id}/get-logs/',
    'GET /v1/user-emails/', 'POST /v1/user-emails/', 'GET /v1/user-emails/{id}/', 'POST /v1/user-emails/{id}/send/',
    'GET /v1/user-email-attachments/', 'POST /v1/user-email-attachments/', 'GET /v1/user-email-attachments/{id}/', 'POST /v1/user-email-attachments/{id}/process-upload/',
    'GET /v1/multicasts/', 'POST /v1/multicasts/', 'GET /v1/multicasts/{id}/', 'GET /v1/user-multicasts/', 'POST /v1/user-multicasts/',
    'POST /v1/individuals/{id}/multicast/', 'POST /v1/users/{id}/multicast/',
    'GET /v1/text-account-numbers/', 'POST /v1/text-account-numbers/', 'GET /v1/text-account-numbers/{id}/', 'PATCH /v1/text-account-numbers/{id}/', 'POST /v1/text-account-numbers/{id}/reset-logs/',
    'GET /v1/text-accounts/', 'POST /v1/text-accounts/', 'GET /v1/text-accounts/{id}/', 'PATCH /v1/text-accounts/{id}/', 'POST /v1/text-accounts/{id}/claim-number/',
    'GET /v1/text-number-info/', 'POST /v1/text-number-info/', 'GET /v1/text-number-info/{id}/', 'GET /v1/text-number-logs/', 'GET /v1/text-receive-logs/{id}/',
    'GET /v1/text-user-number-maps/', 'POST /v1/text-user-number-maps/', 'GET /v1/text-user-number-maps/{id}/',
    'GET /v1/texts/', 'POST /v1/texts/', 'GET /v1/texts/{id}/', 'POST /v1/texts/{id}/callback/',
    'GET /v1/user-consents/', 'POST /v1/user-consents/', 'GET /v1/user-consents/{id}/',
    'GET /v1/user-notifications/', 'GET /v1/user-notifications/{id}/', 'POST /v1/user-notifications/{id}/ack/', 'GET /v1/user-notification-counts/',
  ]))
  await fc.assert(fc.asyncProperty(
    fc.constantFrom(...ops), fc.oneof(hostile, fc.constantFrom(tt.credentials.courier.organization_id, ...ids)),
    fc.array(fc.oneof(value, fc.constantFrom(tt.credentials.courier.organization_id, ...ids)), { maxLength: 5 }),
    fc.array(fc.oneof(hostile, fc.constantFrom(...ids)), { maxLength: 3 }), fc.constantFrom('org-preferences', 'organizations', 'messaging-channels', 'messaging-messages', 'messaging-attachments', 'messaging-bookmarks', 'messaging-plugins', 'messaging-responders', 'sniffers', 'messaging-bulk-messages', 'messaging-bulk-attachments', 'announcers', 'aggregation-requests', 'messaging-operations', 'system-purges', 'app-credentials', 'badge-counts', 'bulk-badge-counts', 'user-devices', 'user-emails', 'user-email-attachments', 'multicasts', 'user-multicasts', 'text-account-numbers', 'text-accounts', 'text-number-info', 'text-user-number-maps', 'texts', 'user-consents', 'user-notifications', 'nope', 5), fc.dictionary(fc.string({ maxLength: 8 }), value, { maxKeys: 2 }),
    async (op, id, attributeValues, queryValues, type, extra) => {
      const attributes = Object.fromEntries(op.attributes.map((f, i) => [f, attributeValues[i % Math.max(1, attributeValues.length)]]).filter(([, v]) => v !== undefined))
      const query = op.query.slice(0, queryValues.length).map((q, i) => `${encodeURIComponent(q)}=${encodeURIComponent(queryValues[i]!)}`).join('&')
      const url = op.path.replace(/\{[^}]+\}/g, encodeURIComponent(id)) + (query ? `?${query}` : '')
      const before = await counts()
      const r = await t.app.inject({
        method: op.method as 'GET', url,
        headers: { authorization: `Bearer ${tt.credentials.courier.api_key}`, ...(op.method !== 'GET' ? { 'content-type': 'application/vnd.api+json' } : {}) },
        ...(op.method !== 'GET' ? { payload: JSON.stringify({ data: { type, attributes, ...extra } }) } : {}),
      })
      expect(r.statusCode, `${op.method} ${url} → ${r.body.slice(0, 300)}`).toBeLessThan(500)
      if (r.statusCode >= 400) {
        expectJsonApiError(r, r.statusCode)
        expect(await counts(), `${op.method} ${url} wrote on a ${r.statusCode}`).toEqual(before)
      }
    },
  ), { numRuns: 400 })
}, 300_000)
