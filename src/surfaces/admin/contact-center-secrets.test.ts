import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { endUserNum } from '../../../test/factories/end-users.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import { startWebhookReceiver, type WebhookReceiver } from '../../../test/peers/webhook-receiver.ts'
import { cliOver, type CliRun } from '../../cli/testing.ts'
import { verifyPassword } from '../../lib/passwords.ts'

// Webhook secrets and agent passwords of a contact-center setup file are never kept or served in
// clear: the kept versions hold them sealed (webhook) or hashed (passwords), GET /admin/contact-center
// serves the webhook secrets masked, a reload of the served file keeps them, the signed webhooks still
// verify with the configured secrets (rotation too), and `switchboard migrate` rewrites versions kept
// in clear by older versions, once.
const PRIMARY = 'primary-secret-AAAA-0001'
const SECONDARY = 'secondary-secret-BBBB-0002'
const NEXT = 'next-primary-secret-CCCC-0003'
const PASSWORD = 'an agent password 42'

let t: TestApp
let receiver: WebhookReceiver
let cli: (args: string[], input?: string) => Promise<CliRun>
beforeAll(async () => {
  t = await startTestApp({ workers: true, config: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true' }, services: { webhookRetry: { retryDelaySeconds: 1 } } })
  receiver = await startWebhookReceiver([PRIMARY])
  cli = cliOver(t.store)
})
afterAll(async () => {
  await receiver?.close()
  await t?.close()
})

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
const setup = (webhook: string) => `
settings:
  rate_limit: 1000
  # the webhook of this tenant
  webhook: { url: "${receiver.url}/hooks"${webhook} }
teams: [{ name: Desk }]
agents:
  - { email: ann@example.org, first_name: Ann, last_name: A, teams: [Desk], password: "${PASSWORD}" }
menus:
  - { name: Site, type: web, children: [{ name: Help, channels: [chat], teams: [Desk] }] }
`
const put = (tt: TestTenant, body: string, type = 'application/yaml') =>
  t.app.inject({ method: 'PUT', url: '/admin/contact-center', headers: { authorization: tt.cassAuth, 'content-type': type }, payload: body })
const served = async (tt: TestTenant) => (JSON.parse((await t.app.inject({ method: 'GET', url: '/admin/contact-center', headers: { authorization: tt.cassAuth } })).body) as Json).data as Json
const stored = (tt: TestTenant) => t.store.db.selectFrom('cc_setup_versions').select(['version', 'document', 'source', 'redacted']).where('tenant_id', '=', tt.tenant.id).orderBy('version').execute()

/** Start a chat (its end user joins: a signed `participant_joined`) and wait for the webhook; the receiver's matched secret. */
async function signedHook(tt: TestTenant, key: number): Promise<number> {
  const r = await t.app.inject({ method: 'POST', url: '/apps/api/v1/chats', headers: { authorization: tt.ccaiAuth }, payload: { chat: { menu_id: 2, end_user_id: await endUserNum(t.services, tt.tenant.id, key) } } })
  expect(r.statusCode, r.body).toBe(201)
  const id = (JSON.parse(r.body) as Json).id as number
  const got = await waitFor(`the webhook of chat ${id}`, () => receiver.received.find((h) => (JSON.parse(h.body) as Json).chat_id === id && h.path === '/hooks'), 15_000)
  return got.matchedSecret
}

describe('webhook secrets and passwords in kept setup files', () => {
  it('keeps them sealed or hashed, serves the secrets masked, and the webhooks still verify; a reload of the served file keeps them', async () => {
    const tt = await createTenant(t.services)
    const r = await put(tt, setup(`, primary_secret: "${PRIMARY}", secondary_secret: "${SECONDARY}"`))
    expect(r.statusCode, r.body).toBe(200)
    const [v1] = await stored(tt)
    const kept = JSON.stringify(v1)
    for (const clear of [PRIMARY, SECONDARY, PASSWORD]) expect(kept).not.toContain(clear)
    expect(v1!.redacted).toBe(true)
    expect(v1!.document).toMatchObject({ settings: { webhook: { primary_secret: expect.stringMatching(/^v1\./), secondary_secret: expect.stringMatching(/^v1\./) } } })
    const settings = await t.store.db.selectFrom('cc_settings').select('webhook_secrets_sealed').where('tenant_id', '=', tt.tenant.id).executeTakeFirstOrThrow()
    for (const clear of [PRIMARY, SECONDARY]) expect(JSON.stringify(settings)).not.toContain(clear)

    const file = await served(tt)
    expect(file.source).toContain('primary_secret: "****0001"')
    expect(file.source).toContain('secondary_secret: "****0002"')
    expect(file.source).toContain('# the webhook of this tenant')
    expect(file.source).not.toContain(PASSWORD)
    const hash = /password_hash: (\S+) \}/.exec(file.source)?.[1]
    expect(await verifyPassword(PASSWORD, hash!)).toBe(true)

    expect(await signedHook(tt, 1)).toBe(0)

    // The served file loads again to the same secrets; so does a file without primary_secret.
    const again = await put(tt, file.source as string)
    expect(again.statusCode, again.body).toBe(200)
    expect(await t.services.ccSetup.webhookTarget(tt.tenant.id)).toMatchObject({ secrets: [PRIMARY, SECONDARY] })
    expect((await served(tt)).source).toBe(file.source)
    expect((await put(tt, setup(''))).statusCode).toBe(200)
    expect(await t.services.ccSetup.webhookTarget(tt.tenant.id)).toMatchObject({ secrets: [PRIMARY] })
    expect(await signedHook(tt, 2)).toBe(0)

    // A masked value that masks no stored secret, a short secret, no secret at all: refused, nothing changes.
    const before = await stored(tt)
    for (const [webhook, problem] of [
      [', primary_secret: "****9999"', 'settings.webhook.primary_secret: the masked value matches no stored webhook secret'],
      [', primary_secret: "too-short"', 'settings.webhook.primary_secret: at least 16 characters (or the masked value the server serves, to keep the stored secret)'],
    ]) {
      const bad = await put(tt, setup(webhook!))
      expect(bad.statusCode).toBe(400)
      expect((JSON.parse(bad.body) as Json).errors).toContain(problem)
    }
    const fresh = await createTenant(t.services)
    const none = await put(fresh, setup(''))
    expect(none.statusCode).toBe(400)
    expect((JSON.parse(none.body) as Json).errors).toEqual(['settings.webhook.primary_secret: required (no webhook secret is stored to keep)'])
    expect(await stored(tt)).toEqual(before)
  })

  it('rotates: a new primary with the old one as secondary (given masked) signs with both; dropping the secondary ends the rotation', async () => {
    const tt = await createTenant(t.services)
    expect((await put(tt, setup(`, primary_secret: "${PRIMARY}"`))).statusCode).toBe(200)
    const rotating = await put(tt, setup(`, primary_secret: "${NEXT}", secondary_secret: "****0001"`))
    expect(rotating.statusCode, rotating.body).toBe(200)
    expect(await t.services.ccSetup.webhookTarget(tt.tenant.id)).toMatchObject({ secrets: [NEXT, PRIMARY] })
    expect((await served(tt)).source).toContain('primary_secret: "****0003", secondary_secret: "****0001"')
    // A consumer still on the old secret verifies (the secondary signature); one on the new, too.
    expect(await signedHook(tt, 1)).toBe(0)
    receiver.secrets = [NEXT]
    try {
      expect(await signedHook(tt, 2)).toBe(0)
      expect((await put(tt, setup(', primary_secret: "****0003"'))).statusCode).toBe(200)
      expect(await t.services.ccSetup.webhookTarget(tt.tenant.id)).toMatchObject({ secrets: [NEXT] })
      expect(await signedHook(tt, 3)).toBe(0)
    } finally {
      receiver.secrets = [PRIMARY]
    }
  })

  it('serves a JSON file masked too, and `switchboard contact-center show` prints it masked', async () => {
    const tt = await createTenant(t.services)
    const json = JSON.stringify({ settings: { webhook: { url: `${receiver.url}/hooks`, primary_secret: PRIMARY } }, teams: [{ name: 'Solo' }] })
    expect((await put(tt, json, 'application/json')).statusCode).toBe(200)
    const file = await served(tt)
    expect(JSON.parse(file.source as string)).toEqual({ settings: { webhook: { url: `${receiver.url}/hooks`, primary_secret: '****0001' } }, teams: [{ name: 'Solo' }] })
    expect(JSON.stringify(await stored(tt))).not.toContain(PRIMARY)
    const shown = await cli(['contact-center', 'show', '--tenant', tt.tenant.name, '--json'])
    expect(shown.code, shown.stderr).toBe(0)
    expect(JSON.parse(shown.stdout)).toMatchObject({ tenant: tt.tenant.name, version: 1, format: 'json', source: file.source })
    const plain = await cli(['contact-center', 'show', '--tenant', tt.tenant.name])
    expect(plain.stdout).toContain('"primary_secret": "****0001"')
    expect(plain.stdout).not.toContain(PRIMARY)
    const none = await createTenant(t.services)
    expect(await cli(['contact-center', 'show', '--tenant', none.tenant.name])).toMatchObject({ code: 1, stderr: `contact-center show: "${none.tenant.name}" has no contact center loaded\n` })
  })

  it('`switchboard migrate` rewrites versions kept in clear by older versions, once', async () => {
    const tt = await createTenant(t.services)
    expect((await put(tt, setup(`, primary_secret: "${PRIMARY}"`))).statusCode).toBe(200)
    // A version as an older Switchboard kept it: clear password and secrets, not yet redacted.
    const source = setup(`, primary_secret: "${PRIMARY}", secondary_secret: "${SECONDARY}"`)
    const document = { settings: { rate_limit: 1000, webhook: { url: `${receiver.url}/hooks`, primary_secret: PRIMARY, secondary_secret: SECONDARY } }, teams: [{ name: 'Desk' }],
      agents: [{ email: 'ann@example.org', first_name: 'Ann', last_name: 'A', teams: ['Desk'], password: PASSWORD }] }
    await t.store.db.insertInto('cc_setup_versions').values({ tenant_id: tt.tenant.id, version: 2, document: JSON.stringify(document), source, format: 'yaml', redacted: false }).execute()

    const run = await cli(['migrate'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/contact-center setup versions: [1-9]\d* rewritten without clear secrets/)
    const [, v2] = await stored(tt)
    expect(v2!.redacted).toBe(true)
    for (const clear of [PRIMARY, SECONDARY, PASSWORD]) expect(JSON.stringify(v2)).not.toContain(clear)
    const agent = (v2!.document as Json).agents[0]
    expect(agent.password).toBeUndefined()
    expect(await verifyPassword(PASSWORD, agent.password_hash as string)).toBe(true)
    expect(v2!.source).toContain('# the webhook of this tenant')
    // Served masked, as a version kept by this one is.
    const file = await served(tt)
    expect(file.version).toBe(2)
    expect(file.source).toContain('primary_secret: "****0001", secondary_secret: "****0002"')

    // Idempotent: a second run rewrites nothing.
    const second = await cli(['migrate'])
    expect(second.stdout).not.toContain('rewritten')
    expect((await stored(tt))[1]).toEqual(v2)
  })
})
