import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type TestTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'

// The template file through the admin API: loaded as a new version (YAML or JSON), every problem
// reported at its path with nothing changed, the current file and its templates shown back, per
// tenant; the JSON Schema published.
const DEMO = readFileSync(new URL('../../../examples/templates/demo.yaml', import.meta.url), 'utf8')

let t: TestApp
beforeAll(async () => {
  t = await startTestApp()
})
afterAll(async () => t?.close())

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
const put = (tt: TestTenant, body: string, type = 'application/yaml') =>
  t.app.inject({ method: 'PUT', url: '/admin/templates', headers: { authorization: tt.cassAuth, 'content-type': type }, payload: body })
const get = async (tt: TestTenant): Promise<Json> => {
  const r = await t.app.inject({ url: '/admin/templates', headers: { authorization: tt.cassAuth } })
  expect(r.statusCode, r.body).toBe(200)
  return (JSON.parse(r.body) as Json).data
}
/** What the tenant has stored: every version and the current rows. */
async function stored(tt: TestTenant) {
  const db = t.store.db
  return {
    versions: await db.selectFrom('template_versions').select(['version', 'format', 'source']).where('tenant_id', '=', tt.tenant.id).orderBy('version').execute(),
    rows: await db.selectFrom('templates').select(['template_id', 'version']).where('tenant_id', '=', tt.tenant.id).orderBy('template_id').execute(),
  }
}

describe('PUT /admin/templates', () => {
  it('loads the demo file as version 1, then a JSON file as version 2 replacing it; GET shows the current one', async () => {
    const tt = await createTenant(t.services)
    expect(await get(tt)).toEqual({ version: 0, format: null, source: null, loaded_at: null, templates: [] })
    const r = await put(tt, DEMO)
    expect(r.statusCode, r.body).toBe(200)
    expect(JSON.parse(r.body)).toEqual({ data: { version: 1, templates: ['appointment-reminder', 'medication-refill', 'care-check-in'] } })
    const current = await get(tt)
    expect(current).toMatchObject({ version: 1, format: 'yaml', source: DEMO })
    expect(Date.parse(current.loaded_at)).not.toBeNaN()
    expect(current.templates).toEqual([
      { id: 'appointment-reminder', description: 'Reminds a patient of an upcoming appointment', parts: ['push', 'sms', 'email'], languages: ['es'], data_schema: true },
      { id: 'medication-refill', description: 'Tells a patient a prescription is ready to pick up', parts: ['push', 'sms', 'in-app'], languages: ['es'], data_schema: true },
      { id: 'care-check-in', description: 'A weekly check-in from the care team (no data needed)', parts: ['sms', 'in-app'], languages: ['es'], data_schema: false },
    ])

    const json = { templates: { 'lab-results': { sms: 'Your results from {{ data.lab }} are in.', languages: { 'pt-BR': { sms: 'Seus resultados de {{ data.lab }} chegaram.' } } } } }
    const second = await put(tt, JSON.stringify(json), 'application/json; charset=utf-8')
    expect(second.statusCode, second.body).toBe(200)
    expect(JSON.parse(second.body)).toEqual({ data: { version: 2, templates: ['lab-results'] } })
    expect(await get(tt)).toMatchObject({ version: 2, format: 'json', source: JSON.stringify(json, null, 2), templates: [{ id: 'lab-results', parts: ['sms'], languages: ['pt-BR'], data_schema: false }] })
    const s = await stored(tt)
    expect(s.versions.map((v) => v.version)).toEqual([1, 2])
    expect(s.rows).toEqual([{ template_id: 'lab-results', version: 2 }])
    // Rendering follows the current version: the demo's templates are gone.
    await expect(t.services.templates.render(undefined, tt.tenant, 'appointment-reminder', {}, { name: null, language: null })).rejects.toMatchObject({ code: 'template_not_found' })
    expect((await t.services.templates.render(undefined, tt.tenant, 'lab-results', { lab: 'North Lab' }, { name: null, language: 'pt' })).sms).toBe('Seus resultados de North Lab chegaram.')
  })

  it('refuses a bad file with every problem at its path, changing nothing', async () => {
    const tt = await createTenant(t.services)
    expect((await put(tt, DEMO)).statusCode).toBe(200)
    const before = await stored(tt)
    const bad = DEMO
      .replace('{{ data.date }} at {{ data.time }}.\n', '{{ data.date | date_fmt }} at {{ data.time }}.\n')
      .replace('category: pharmacy', 'category: "no spaces allowed"')
      .replace('format: date }', 'format: day }')
    const r = await put(tt, bad)
    expect(r.statusCode, r.body).toBe(400)
    const body = JSON.parse(r.body) as Json
    expect(body).toEqual({
      message: 'templates.medication-refill.push.category: a category is letters, digits, _ . - (at most 64)',
      code: 'invalid_templates',
      errors: ['templates.medication-refill.push.category: a category is letters, digits, _ . - (at most 64)'],
    })
    // The shape right, the rest at once: an unknown format in the data schema, an unknown filter.
    const r2 = await put(tt, bad.replace('category: "no spaces allowed"', 'category: pharmacy'))
    expect(r2.statusCode, r2.body).toBe(400)
    expect((JSON.parse(r2.body) as Json).errors).toEqual([
      'templates.appointment-reminder.data-schema.properties.date.format: unknown format "day"',
      'templates.appointment-reminder.email.text: Liquid: undefined filter: date_fmt, line:3, col:64',
    ])
    // A Liquid syntax error with its line, a tag that would read files, a YAML error.
    const r3 = await put(tt, 'templates:\n  x:\n    sms: "line one\\n{% for a in data.list %}{{ a }}"\n    in-app: { title: "{% render \'other\' %}", body: ok }\n')
    expect((JSON.parse(r3.body) as Json).errors).toEqual([
      'templates.x.sms: Liquid: tag {% for a in data.list %} not closed, line:2, col:1',
      'templates.x.in-app.title: Liquid: tag "render" not found, line:1, col:1',
    ])
    const r4 = await put(tt, 'templates:\n  x:\n    sms: [unclosed\n')
    expect(r4.statusCode).toBe(400)
    expect((JSON.parse(r4.body) as Json).errors[0]).toMatch(/^\(document\) line \d+, column \d+: /)
    expect(await stored(tt)).toEqual(before)
    expect((await get(tt)).version).toBe(1)
  })

  it('takes JSON too; refuses other media types, an empty body, malformed JSON, and no credentials', async () => {
    const tt = await createTenant(t.services)
    const plain = await put(tt, DEMO, 'text/plain')
    expect(plain.statusCode, plain.body).toBe(415)
    const empty = await put(tt, '', 'application/yaml')
    expect([empty.statusCode, JSON.parse(empty.body)]).toEqual([400, { message: '(document): the template file is empty', code: 'invalid_templates', errors: ['(document): the template file is empty'] }])
    const malformed = await put(tt, '{"templates": ', 'application/json')
    expect(malformed.statusCode).toBe(400)
    const notObject = await put(tt, '[1, 2]', 'application/json')
    expect([notObject.statusCode, (JSON.parse(notObject.body) as Json).errors]).toEqual([400, ['(document): must be an object with "templates"']])
    const anonymous = await t.app.inject({ method: 'PUT', url: '/admin/templates', headers: { 'content-type': 'application/yaml' }, payload: DEMO })
    expect(anonymous.statusCode).toBe(401)
    expect((await t.app.inject({ url: '/admin/templates' })).statusCode).toBe(401)
    expect((await stored(tt)).versions).toEqual([])
  })

  it('keeps each tenant’s templates its own', async () => {
    const [a, b] = await Promise.all([createTenant(t.services), createTenant(t.services)])
    expect((await put(a, DEMO)).statusCode).toBe(200)
    expect(await get(b)).toEqual({ version: 0, format: null, source: null, loaded_at: null, templates: [] })
    await expect(t.services.templates.render(undefined, b.tenant, 'care-check-in', {}, { name: 'x', language: null })).rejects.toMatchObject({ code: 'template_not_found' })
    expect((await put(b, 'templates:\n  care-check-in:\n    sms: "B says hi"\n')).statusCode).toBe(200)
    expect((await t.services.templates.render(undefined, b.tenant, 'care-check-in', {}, { name: 'x', language: null })).sms).toBe('B says hi')
    expect((await t.services.templates.render(undefined, a.tenant, 'care-check-in', {}, { name: 'x', language: null })).sms).toMatch(/^Hi x, how are you feeling/)
    expect((await get(a)).version).toBe(1)
  })
})

describe('GET /schemas/templates.json', () => {
  it('publishes the JSON Schema of the template file', async () => {
    const r = await t.app.inject({ method: 'GET', url: '/schemas/templates.json' })
    expect(r.statusCode).toBe(200)
    expect(r.headers['content-type']).toContain('application/schema+json')
    const schema = JSON.parse(r.body) as Json
    expect(schema.$id).toBe('https://switchboard.local/schemas/templates.json')
    const template = schema.properties.templates.additionalProperties ?? Object.values(schema.properties.templates.patternProperties)[0]
    expect(Object.keys(template.properties)).toEqual(['description', 'language', 'data-schema', 'push', 'sms', 'email', 'in-app', 'languages'])
  })
})
