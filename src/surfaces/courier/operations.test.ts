import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { expectJsonApi, expectJsonApiError } from '../../../test/helpers/jsonapi.ts'
import { waitFor } from '../../../test/helpers/wait.ts'

// Messaging operations (#63–#65) over HTTP with the job workers running: the documented sample
// request as a contract test (its empty args are refused as a §1.7 error), every bad input refused
// with its pointer or parameter and nothing written, `move-group` moving a care team's channels
// (with their messages) to another team as a job whose status and logs a poller sees change, a run
// that fails halfway and is run again moving each channel once, `include-args`, `filter[type]`,
// pagination, user tokens seeing only their own operations, and another tenant answering 404.
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

/** The poller test holds the job after its first batch until it has seen the operation running. */
let hold: { seen: Promise<void>; release: () => void } | undefined

let t: TestApp
let a: TestTenant
let b: TestTenant
let org: string
let oldTeam: string
let newTeam: string
let otherTeam: string
let patient: string
let doctor: string
let nurse: string
let nurseToken: string
beforeAll(async () => {
  t = await startTestApp({
    workers: true,
    services: { operationJob: { batchSize: 1, afterBatch: async (moved) => { if (moved === 1 && hold) await hold.seen } } },
  })
  ;[a, b] = await Promise.all([createTenant(t.services), createTenant(t.services)])
  org = a.credentials.courier.organization_id
  await t.services.directory.import(a.tenant, { format: 'parsed', value: {
    individuals: [{ external_id: 'pat', first_name: 'Pat' }, { external_id: 'nia', first_name: 'Nia' }, { external_id: 'doc', first_name: 'Doc' }],
    users: [{ email: 'nia@example.org', individual: 'nia' }, { email: 'doc@example.org', individual: 'doc' }],
    groups: [
      { external_id: 'old', name: 'Old team', users: ['nia@example.org'], individuals: ['pat'] },
      { external_id: 'new', name: 'New team', users: ['doc@example.org'] },
      { external_id: 'other', name: 'Other team', users: ['nia@example.org'] },
    ],
  } })
  const groups = await t.store.db.selectFrom('msg_individual_groups').select(['id', 'external_id']).where('tenant_id', '=', a.tenant.id).execute()
  const g = (x: string) => groups.find((r) => r.external_id === x)!.id
  ;[oldTeam, newTeam, otherTeam] = [g('old'), g('new'), g('other')]
  const people = await t.store.db.selectFrom('people as p').innerJoin('person_identities as i', (j) => j.onRef('i.person_id', '=', 'p.id').on('i.surface', '=', 'cass'))
    .select(['p.external_id', 'i.public_id']).where('p.tenant_id', '=', a.tenant.id).execute()
  const cass = (x: string) => people.find((r) => r.external_id === x)!.public_id
  patient = cass('pat')
  doctor = cass('doc')
  nurse = cass('nia')
  nurseToken = (await t.services.directory.issueUserToken(a.tenant, 'nia@example.org')).token
}, 60_000)
afterAll(async () => t?.close())

function call(who: TestTenant | string, method: 'GET' | 'POST', url: string, body?: unknown) {
  const token = typeof who === 'string' ? who : who.credentials.courier.api_key
  return t.app.inject({
    method, url, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  })
}
async function ok(who: TestTenant | string, method: 'GET' | 'POST', url: string, body?: unknown): Promise<Json> {
  const r = await call(who, method, url, body)
  expect(r.statusCode, `${method} ${url} ${r.body}`).toBe(method === 'POST' ? 201 : 200)
  return expectJsonApi(JSON.parse(r.body))
}
const create = (args: Json, extra: Json = {}) => ({ data: { type: 'messaging-operations', attributes: { args, 'organization-id': org, type: 'move-group', ...extra } }, meta: {} })
/** A channel of a team with a message in it. */
async function teamChannel(team: string, text: string): Promise<string> {
  const c = await ok(a, 'POST', '/v1/messaging-channels/', { data: { type: 'messaging-channels', attributes: { 'organization-id': org, 'individual-group-id': team, 'individual-ids': [patient] } } })
  await ok(a, 'POST', '/v1/messaging-messages/', { data: { type: 'messaging-messages', attributes: { 'channel-id': c.data.id, message: text, 'individual-id': patient } } })
  return c.data.id as string
}
const teamOf = async (channelId: string) => (await ok(a, 'GET', `/v1/messaging-channels/${channelId}/`)).data.attributes['individual-group-id'] as string | null
async function written() {
  const ops = await t.store.db.selectFrom('msg_operations').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', a.tenant.id).executeTakeFirstOrThrow()
  const moved = await t.store.db.selectFrom('msg_channels').select(['id', 'individual_group_id', 'last_modified_at']).where('tenant_id', '=', a.tenant.id).orderBy('id').execute()
  return { ops: Number(ops.n), channels: moved.map((c) => `${c.id}:${c.individual_group_id}:${c.last_modified_at.toISOString()}`) }
}
const finished = (id: string) => waitFor(`operation ${id} finished`, async () => {
  const doc = await ok(a, 'GET', `/v1/messaging-operations/${id}/`)
  return ['completed', 'failed'].includes(doc.data.attributes.status) ? doc : undefined
}, 30_000)

describe('messaging operations', () => {
  it('refuses the sample request (move-group needs its args) and every bad input with a §1.7 error, writing nothing', async () => {
    await teamChannel(oldTeam, 'before any move')
    const before = await written()
    // #64's documented sample: args {} — the groups are missing.
    expectJsonApiError(await call(a, 'POST', '/v1/messaging-operations/', create({})), 400, { pointer: '/data/attributes/args/from-individual-group-id' })
    expectJsonApiError(await call(a, 'POST', '/v1/messaging-operations/', create({ 'from-individual-group-id': oldTeam })), 400, { pointer: '/data/attributes/args/to-individual-group-id' })
    expectJsonApiError(await call(a, 'POST', '/v1/messaging-operations/', create({ 'from-individual-group-id': 'nope', 'to-individual-group-id': newTeam })), 400, { pointer: '/data/attributes/args/from-individual-group-id' })
    expectJsonApiError(await call(a, 'POST', '/v1/messaging-operations/', create({ 'from-individual-group-id': oldTeam, 'to-individual-group-id': oldTeam })), 400, { pointer: '/data/attributes/args/to-individual-group-id' })
    expectJsonApiError(await call(a, 'POST', '/v1/messaging-operations/', create({ 'from-individual-group-id': oldTeam, 'to-individual-group-id': newTeam, extra: 1 })), 400, { pointer: '/data/attributes/args/extra' })
    expectJsonApiError(await call(a, 'POST', '/v1/messaging-operations/', create({ 'from-individual-group-id': oldTeam, 'to-individual-group-id': newTeam, 'subscribe-leaders': 'yes' })), 400, { pointer: '/data/attributes/args/subscribe-leaders' })
    expectJsonApiError(await call(a, 'POST', '/v1/messaging-operations/', create({ 'from-individual-group-id': oldTeam, 'to-individual-group-id': '11111111-1111-1111-1111-111111111111' })), 404, { pointer: '/data/attributes/args/to-individual-group-id' })
    expectJsonApiError(await call(a, 'POST', '/v1/messaging-operations/', create({ 'from-individual-group-id': oldTeam, 'to-individual-group-id': newTeam }, { type: 'merge-groups' })), 400, { pointer: '/data/attributes/type' })
    expectJsonApiError(await call(a, 'POST', '/v1/messaging-operations/', create({ 'from-individual-group-id': oldTeam, 'to-individual-group-id': newTeam }, { 'organization-id': b.credentials.courier.organization_id })), 404, { pointer: '/data/attributes/organization-id' })
    expectJsonApiError(await call(a, 'POST', '/v1/messaging-operations/', { data: { type: 'messaging-plugins', attributes: create({}).data.attributes } }), 409, { pointer: '/data/type' })
    expectJsonApiError(await call(a, 'POST', '/v1/messaging-operations/', { data: { type: 'messaging-operations', attributes: { 'organization-id': org, type: 'move-group' } } }), 400, { pointer: '/data/attributes/args' })
    expectJsonApiError(await call(a, 'GET', '/v1/messaging-operations/'), 400, { parameter: 'organization-id' })
    expectJsonApiError(await call(a, 'GET', `/v1/messaging-operations/?organization-id=${org}&filter[type]=merge`), 400, { parameter: 'filter[type]' })
    expectJsonApiError(await call(a, 'GET', `/v1/messaging-operations/?organization-id=${org}&page[limit]=0`), 400, { parameter: 'page[limit]' })
    expectJsonApiError(await call(a, 'GET', '/v1/messaging-operations/11111111-1111-1111-1111-111111111111/'), 404)
    expectJsonApiError(await call(a, 'GET', '/v1/messaging-operations/not-an-id/'), 404)
    expect(await written()).toEqual(before)
  })

  it('move-group moves a team\'s channels with their messages as a job whose status and logs a poller sees change', async () => {
    const moving = [await teamChannel(oldTeam, 'one'), await teamChannel(oldTeam, 'two'), await teamChannel(oldTeam, 'three')]
    const staying = await teamChannel(otherTeam, 'stays')
    let release!: () => void
    hold = { seen: new Promise<void>((r) => { release = r }), release: () => release() }
    try {
      const created = await ok(a, 'POST', '/v1/messaging-operations/', create({ 'from-individual-group-id': oldTeam, 'to-individual-group-id': newTeam }))
      const id = created.data.id as string
      expect(created.data.type).toBe('messaging-operations')
      expect(created.data.attributes).toMatchObject({
        args: { 'from-individual-group-id': oldTeam, 'to-individual-group-id': newTeam }, 'organization-id': org, 'created-by': org, status: 'pending', type: 'move-group',
      })
      expect(created.data.attributes.logs.entries.map((e: Json) => e.message)).toEqual(['queued'])
      // The job moves one channel, then waits: the poller sees it running with its first batch logged.
      const running = await waitFor('operation running after one batch', async () => {
        const doc = await ok(a, 'GET', `/v1/messaging-operations/${id}/`)
        return doc.data.attributes.status === 'running' && doc.data.attributes.logs['moved-channels'] === 1 ? doc : undefined
      }, 30_000)
      expect(running.data.attributes).not.toHaveProperty('args')
      hold.release()
      const done = await finished(id)
      expect(done.data.attributes.status).toBe('completed')
      expect(done.data.attributes.logs).toMatchObject({ 'moved-channels': moving.length + 1, 'moved-messages': moving.length + 1 })
      expect(done.data.attributes.logs.entries.at(-1).message).toBe('completed')
      expect(Date.parse(done.data.attributes['last-modified-at'])).toBeGreaterThan(Date.parse(done.data.attributes['created-at']))
      for (const c of moving) expect(await teamOf(c)).toBe(newTeam)
      expect(await teamOf(staying)).toBe(otherTeam)
      // The messages went with their channels, and the new team's care team (Doc) joined them.
      const messages = await ok(a, 'GET', `/v1/messaging-messages/?channel-id=${moving[1]}`)
      expect(messages.data.map((m: Json) => m.attributes.message)).toEqual(['two'])
      const channel = await ok(a, 'GET', `/v1/messaging-channels/${moving[0]}/`)
      expect(channel.data.attributes.subscribers.map((s: Json) => s.id)).toEqual(expect.arrayContaining([patient, doctor]))
      // include-args on read; the list filters by type, pages, and shows args only when asked.
      expect((await ok(a, 'GET', `/v1/messaging-operations/${id}/?include-args=true`)).data.attributes.args).toEqual({ 'from-individual-group-id': oldTeam, 'to-individual-group-id': newTeam })
      const listed = await ok(a, 'GET', `/v1/messaging-operations/?organization-id=${org}&filter[type]=move-group&page[limit]=1`)
      expect(listed.meta).toEqual({ 'page[limit]': 1, 'page[offset]': 0, 'page[total]': 1 })
      expect(listed.data.map((o: Json) => o.id)).toEqual([id])
      expect(listed.data[0].attributes).not.toHaveProperty('args')
      expect((await ok(a, 'GET', `/v1/messaging-operations/?organization-id=${org}&include-args=true`)).data[0].attributes.args['to-individual-group-id']).toBe(newTeam)
      expect((await ok(a, 'GET', `/v1/messaging-operations/?organization-id=${org}&page[offset]=1`)).data).toEqual([])
    } finally {
      hold?.release()
      hold = undefined
    }
  }, 60_000)

  it('a run that fails halfway is run again and moves every channel once; a finished operation does nothing more', async () => {
    const channels = [await teamChannel(newTeam, 'a'), await teamChannel(newTeam, 'b'), await teamChannel(newTeam, 'c')]
    // The operation row without its job (the job is the workers'; here the run is driven by hand).
    const op = await t.store.db.insertInto('msg_operations').values({
      tenant_id: a.tenant.id, organization_id: org, type: 'move-group', created_by: org,
      args: JSON.stringify({ 'from-individual-group-id': newTeam, 'to-individual-group-id': otherTeam, 'subscribe-leaders': false }),
    }).returning('id').executeTakeFirstOrThrow()
    const movedBefore = (await t.store.db.selectFrom('msg_channels').select('id').where('tenant_id', '=', a.tenant.id).where('individual_group_id', '=', newTeam).execute()).length
    await expect(t.services.operations.run(a.tenant.id, op.id, { batchSize: 2, afterBatch: () => { throw new Error('worker died') } })).rejects.toThrow('worker died')
    expect((await ok(a, 'GET', `/v1/messaging-operations/${op.id}/`)).data.attributes).toMatchObject({ status: 'running', logs: { 'moved-channels': 2 } })
    await t.services.operations.run(a.tenant.id, op.id, { batchSize: 2 })
    const done = await ok(a, 'GET', `/v1/messaging-operations/${op.id}/`)
    expect(done.data.attributes.status).toBe('completed')
    expect(done.data.attributes.logs['moved-channels']).toBe(movedBefore)
    for (const c of channels) expect(await teamOf(c)).toBe(otherTeam)
    // Without subscribe-leaders the other team's users (Nia) were not added.
    const subscribers = (await ok(a, 'GET', `/v1/messaging-channels/${channels[0]}/`)).data.attributes.subscribers.map((s: Json) => s.id)
    expect(subscribers).toContain(doctor)
    expect(subscribers).not.toContain(nurse)
    const entries = done.data.attributes.logs.entries.length
    await t.services.operations.run(a.tenant.id, op.id)
    expect((await ok(a, 'GET', `/v1/messaging-operations/${op.id}/`)).data.attributes.logs.entries).toHaveLength(entries)
  }, 60_000)

  it('a target team gone before the run fails the operation with the reason in its logs', async () => {
    const op = await t.store.db.insertInto('msg_operations').values({
      tenant_id: a.tenant.id, organization_id: org, type: 'move-group', created_by: org,
      args: JSON.stringify({ 'from-individual-group-id': otherTeam, 'to-individual-group-id': '22222222-2222-2222-2222-222222222222' }),
    }).returning('id').executeTakeFirstOrThrow()
    await t.services.operations.run(a.tenant.id, op.id)
    const doc = await ok(a, 'GET', `/v1/messaging-operations/${op.id}/`)
    expect(doc.data.attributes.status).toBe('failed')
    expect(doc.data.attributes.logs.entries.at(-1)).toMatchObject({ level: 'error' })
  })

  it('a user token moves only between teams it leads and sees only its own operations', async () => {
    // Nia leads old and other, not new: new is not hers to see.
    expectJsonApiError(await call(nurseToken, 'POST', '/v1/messaging-operations/', create({ 'from-individual-group-id': oldTeam, 'to-individual-group-id': newTeam })), 404, { pointer: '/data/attributes/args/to-individual-group-id' })
    const mine = await ok(nurseToken, 'POST', '/v1/messaging-operations/', create({ 'from-individual-group-id': oldTeam, 'to-individual-group-id': otherTeam }))
    expect(mine.data.attributes['created-by']).not.toBe(org)
    await finished(mine.data.id)
    const listed = await ok(nurseToken, 'GET', `/v1/messaging-operations/?organization-id=${org}`)
    expect(listed.data.map((o: Json) => o.id)).toEqual([mine.data.id])
    const all = await ok(a, 'GET', `/v1/messaging-operations/?organization-id=${org}`)
    expectJsonApiError(await call(nurseToken, 'GET', `/v1/messaging-operations/${all.data.at(-1).id}/`), 404)
  }, 60_000)

  it('another tenant never sees an operation', async () => {
    const all = await ok(a, 'GET', `/v1/messaging-operations/?organization-id=${org}`)
    expect(all.data.length).toBeGreaterThan(0)
    expectJsonApiError(await call(b, 'GET', `/v1/messaging-operations/${all.data[0].id}/?include-args=true`), 404)
    expectJsonApiError(await call(b, 'GET', `/v1/messaging-operations/?organization-id=${org}`), 404, { parameter: 'organization-id' })
    expect((await ok(b, 'GET', `/v1/messaging-operations/?organization-id=${b.credentials.courier.organization_id}`)).data).toEqual([])
    // b's own groups are not a's: a's team ids answer 404 in b's operations.
    expectJsonApiError(await call(b, 'POST', '/v1/messaging-operations/', { data: { type: 'messaging-operations', attributes: {
      'organization-id': b.credentials.courier.organization_id, type: 'move-group', args: { 'from-individual-group-id': oldTeam, 'to-individual-group-id': newTeam },
    } } }), 404, { pointer: '/data/attributes/args/from-individual-group-id' })
  })
})
