import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, uniquePhone, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { seedPerson } from '../../../test/helpers/cass.ts'
import { expectJsonApi, expectJsonApiError } from '../../../test/helpers/jsonapi.ts'

// The communication views over HTTP: #22 an individual's channels as an inbox (messaging-channels
// resources, sorted and filtered) and #23 the counts of their communication (plain JSON, §1.10),
// with refusals as §1.7 error objects and another tenant's individuals answering 404.
let t: TestApp
let a: TestTenant
let b: TestTenant
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
let nurse: string
let pat: string
let kim: string
let theirs: string
let direct: Json
let group: Json
beforeAll(async () => {
  t = await startTestApp()
  a = await createTenant(t.services)
  b = await createTenant(t.services)
  nurse = (await seedPerson(t, a, { firstName: 'Nia', phone: uniquePhone() })).cassId
  pat = (await seedPerson(t, a, { firstName: 'Pat', phone: uniquePhone() })).cassId
  kim = (await seedPerson(t, a, { firstName: 'Kim', phone: uniquePhone() })).cassId
  theirs = (await seedPerson(t, b, { firstName: 'Other', phone: uniquePhone() })).cassId
  const org = a.credentials.courier.organization_id
  direct = await t.services.channels.create(a.tenant, { organizationId: org, name: 'Direct', individualIds: [pat], actingIndividualId: nurse }) as unknown as Json
  group = await t.services.channels.create(a.tenant, { organizationId: org, name: 'Group', subscriptionType: 'group-message', individualIds: [pat, kim], actingIndividualId: nurse }) as unknown as Json
  await t.services.messages.post(a.tenant, { channelId: direct.id, individualId: nurse, message: 'pineapple check-in' })
  await t.services.messages.post(a.tenant, { channelId: direct.id, individualId: pat, message: 'fine thanks' })
  await t.services.messages.post(a.tenant, { channelId: group.id, individualId: nurse, message: 'group hello' })
  await t.services.messages.post(a.tenant, { channelId: group.id, individualId: kim, message: 'hi all' })
})
afterAll(async () => t?.close())

const get = (tt: TestTenant, url: string) => t.app.inject({ url, headers: { authorization: `Bearer ${tt.credentials.courier.api_key}` } })
async function ok(url: string): Promise<Json> {
  const r = await get(a, url)
  expect(r.statusCode, r.body).toBe(200)
  return JSON.parse(r.body) as Json
}
const ids = (doc: Json) => (doc.data as Json[]).map((c) => c.id)

describe('communication-messages (#22)', () => {
  it('lists an individual’s channels as messaging-channels, newest first, sorted and filtered as asked', async () => {
    const inbox = expectJsonApi(await ok(`/v1/communication-messages/?individual-id=${pat}`))
    expect(ids(inbox)).toEqual([group.id, direct.id])
    expect(inbox.data.every((c: Json) => c.type === 'messaging-channels')).toBe(true)
    expect(inbox.meta).toEqual({ 'page[limit]': 100, 'page[offset]': 0, 'page[total]': 2 })
    expect(inbox.data[0].attributes['caller-new-message-count']).toBe(2)
    expect(ids(await ok(`/v1/communication-messages/?individual-id=${pat}&sort=last-timestamp`))).toEqual([direct.id, group.id])
    expect(ids(await ok(`/v1/communication-messages/?individual-id=${pat}&sort=unread-count`))).toEqual([direct.id, group.id])
    expect(ids(await ok(`/v1/communication-messages/?individual-id=${pat}&sort=-unread-count&page[limit]=1`))).toEqual([group.id])
    expect(ids(await ok(`/v1/communication-messages/?individual-id=${pat}&filter[text]=PINEAPPLE`))).toEqual([direct.id])
    expect(ids(await ok(`/v1/communication-messages/?individual-id=${pat}&filter[type]=group-message`))).toEqual([group.id])
    expect(ids(await ok(`/v1/communication-messages/?individual-id=${kim}`))).toEqual([group.id])
    expect(ids(await ok(`/v1/communication-messages/?individual-id=${pat}&filter[bookmarked]=true`))).toEqual([])
    expect(ids(await ok(`/v1/communication-messages/?individual-id=${pat}&filter[bookmarked]=false`))).toEqual([group.id, direct.id])
  })

  it('refuses bad parameters naming them, and another tenant’s individual with 404; the other tenant lists nothing', async () => {
    expectJsonApiError(await get(a, '/v1/communication-messages/?page[limit]=101'), 400, { parameter: 'page[limit]' })
    expectJsonApiError(await get(a, '/v1/communication-messages/?sort=newest'), 400, { parameter: 'sort' })
    expectJsonApiError(await get(a, '/v1/communication-messages/?filter[type]=chat'), 400, { parameter: 'filter[type]' })
    expectJsonApiError(await get(a, `/v1/communication-messages/?filter[text]=${'x'.repeat(513)}`), 400, { parameter: 'filter[text]' })
    expectJsonApiError(await get(a, `/v1/communication-messages/?individual-id=${theirs}`), 404, { parameter: 'individual-id' })
    expectJsonApiError(await get(b, `/v1/communication-messages/?individual-id=${pat}`), 404, { parameter: 'individual-id' })
    const other = JSON.parse((await get(b, '/v1/communication-messages/')).body) as Json
    expect(other.data).toEqual([])
  })
})

describe('communication-summaries (#23)', () => {
  it('counts an individual’s messages, by kind and (asked) by sender', async () => {
    const s = (await ok(`/v1/communication-summaries/?individual-id=${pat}&include-senders=true`)).summary as Json
    expect(s).toMatchObject({ messages: 4, notifications: 0, 'provider-messages': 0, 'video-channels': 0 })
    expect(s['message-types']).toEqual([{ 'message-type': 'direct-messages', count: 2 }, { 'message-type': 'group-messages', count: 2 }])
    expect(s['message-senders']).toEqual([{ 'individual-id': nurse, count: 2 }, { 'individual-id': kim, count: 1 }, { 'individual-id': pat, count: 1 }]
      .sort((x, y) => y.count - x.count || x['individual-id'].localeCompare(y['individual-id'])))
    const kims = (await ok(`/v1/communication-summaries/?individual-id=${kim}`)).summary as Json
    expect(kims).toMatchObject({ messages: 2, 'message-senders': [] })
  })

  it('refuses bad parameters and another tenant’s individual', async () => {
    expectJsonApiError(await get(a, '/v1/communication-summaries/?individual-id=nope'), 400, { parameter: 'individual-id' })
    expectJsonApiError(await get(a, '/v1/communication-summaries/?colour=red'), 400, { parameter: 'colour' })
    expectJsonApiError(await get(b, `/v1/communication-summaries/?individual-id=${pat}`), 404, { parameter: 'individual-id' })
    const theirsSummary = JSON.parse((await get(b, '/v1/communication-summaries/')).body) as Json
    expect(theirsSummary.summary.messages).toBe(0)
  })
})
