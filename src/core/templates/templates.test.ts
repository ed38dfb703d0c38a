import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { AppError } from '../errors.ts'
import { parseTemplates, PreparedTemplate } from './templates.service.ts'
import type { TemplateDefinition } from './templates.types.ts'

// The template file and rendering, pure: every problem of a file at its path (shape, ids, language
// keys, data schemas, Liquid syntax, what the closed-off engine refuses), and a rendering per
// recipient (language fallback, the data schema, strict variables, HTML escaping, the limits).
const DEMO = readFileSync(new URL('../../../examples/templates/demo.yaml', import.meta.url), 'utf8')

function problems(source: string, format: 'yaml' | 'json' = 'yaml'): string[] {
  try {
    parseTemplates(source, format)
  } catch (err) {
    expect((err as AppError).code).toBe('invalid_templates')
    return (err as AppError<'invalid_templates'>).details.errors
  }
  throw new Error('the file was accepted')
}

function prepared(def: TemplateDefinition, id = 't'): PreparedTemplate {
  const doc = parseTemplates(JSON.stringify({ templates: { [id]: def } }), 'json')
  return new PreparedTemplate(id, 1, doc.templates[id]!)
}

function renderError(p: PreparedTemplate, data: Record<string, unknown>, language: string | null = null): { code: string; errors: string[] } {
  try {
    p.render(data, { name: 'Ana', language })
  } catch (err) {
    const e = err as AppError<'template_render_failed'>
    return { code: e.code, errors: e.details.errors }
  }
  throw new Error('it rendered')
}

describe('the template file', () => {
  it('accepts the demo file, templates in file order', () => {
    expect(Object.keys(parseTemplates(DEMO, 'yaml').templates)).toEqual(['appointment-reminder', 'medication-refill', 'care-check-in'])
  })

  it('reports every problem at its path', () => {
    const bad = `templates:
  reminder:
    push: { title: "Hi {{ data.name | upcasee }}", body: ok, colour: red }
    sms: "{% if data.x %}unclosed"
    email: { subject: Hi }
    languages:
      es:
        in-app: { title: Hola, body: Hola }
        sms: "{% include 'secrets' %}"
      ES: { sms: "x" }
      "e s": { sms: "x" }
  "_bad id":
    sms: hi
  nothing: {}
  schema:
    data-schema: { type: objectx, properties: { a: { pattern: "(" , format: bogus }, b: { $ref: "http://example.com/x" } }, frobnicate: 1 }
    sms: hi
`
    expect(problems(bad)).toEqual([
      'templates.reminder.push.colour: unknown property "colour"',
    ])
    // With the shape right, the rest is reported all at once.
    const shaped = bad.replace(', colour: red', '')
    expect(problems(shaped)).toEqual([
      'templates.reminder.email: an email has text, html or both',
      'templates.reminder.push.title: Liquid: undefined filter: upcasee, line:1, col:4',
      'templates.reminder.sms: Liquid: tag {% if data.x %} not closed, line:1, col:1',
      'templates.reminder.languages.es.in-app: the template has no default in-app part (a variant only translates the default’s parts)',
      'templates.reminder.languages.es.sms: Liquid: tag "include" not found, line:1, col:1',
      'templates.reminder.languages.ES: the same language as languages.es',
      'templates.reminder.languages.e s: not a language code or locale (es, es-US)',
      'templates._bad id: a template id is letters, digits, _ . : - (at most 255, starting with a letter or digit)',
      'templates.nothing: a template has at least one of push, sms, email, in-app',
      'templates.schema.data-schema.type: unknown type "objectx"',
      'templates.schema.data-schema.properties.a.pattern: not a regular expression "("',
      'templates.schema.data-schema.properties.a.format: unknown format "bogus"',
      'templates.schema.data-schema.properties.b.$ref: only a reference into this schema ("#/$defs/name") is allowed, and it must exist',
      'templates.schema.data-schema.frobnicate: unknown JSON Schema keyword "frobnicate"',
    ])
  })

  it('words a document that is not one like the other setup files', () => {
    expect(problems('')).toEqual(['(document): the template file is empty'])
    expect(problems('templates: [1')[0]).toMatch(/^\(document\) line 1, column \d+: /)
    expect(problems('- a')).toEqual(['(document): must be an object with "templates"'])
    expect(problems('{"templates": {}, "extra": 1}', 'json')).toEqual(['(document).extra: unknown property "extra"'])
    expect(problems('templates:\n  a:\n    sms: ""\n')).toEqual(['templates.a.sms: must not have fewer than 1 characters'])
    expect(problems(`templates:\n  a:\n    sms: "${'x'.repeat(20_001)}"\n`)).toEqual(['templates.a.sms: must not have more than 20000 characters'])
  })
})

describe('rendering', () => {
  const reminder = () => new PreparedTemplate('appointment-reminder', 1, parseTemplates(DEMO, 'yaml').templates['appointment-reminder']!)
  const data = { clinic: 'North Clinic', date: '2026-12-24', time: '09:30' }

  it('renders every part in the recipient’s language, falling back to the default parts', () => {
    const en = reminder().render(data, { name: 'Maya', language: null })
    expect(en).toEqual({
      templateId: 'appointment-reminder', language: 'en',
      push: { title: 'Appointment on 2026-12-24', body: 'Maya, see you at North Clinic at 09:30.', category: 'appointments' },
      sms: 'Hi Maya, a reminder of your appointment at North Clinic on 2026-12-24 at 09:30. Reply C to confirm.',
      email: {
        subject: 'Your appointment on 2026-12-24',
        text: 'Hello Maya,\n\nthis is a reminder of your appointment at North Clinic on 2026-12-24 at 09:30.\n',
        html: '<p>Hello Maya,</p>\n<p>this is a reminder of your appointment at <strong>North Clinic</strong> on 2026-12-24 at 09:30.</p>\n',
      },
    })
    for (const language of ['es', 'es-US', 'es_MX', 'Spanish', 'ES']) {
      const es = reminder().render({ ...data, clinician: 'Dr. Ruiz' }, { name: 'Lu', language })
      expect(es.language, language).toBe('es')
      expect(es.sms).toBe('Hola Lu, le recordamos su cita en North Clinic el 2026-12-24 a las 09:30 con Dr. Ruiz. Responda C para confirmar.')
      // The variant's push keeps the default's category; the email's html, which the variant lacks, is the default's.
      expect(es.push).toEqual({ title: 'Cita el 2026-12-24', body: 'Lu, le esperamos en North Clinic a las 09:30.', category: 'appointments' })
      expect(es.email?.subject).toBe('Su cita el 2026-12-24')
    }
    // A language without a variant, and no name: the default parts and the `default` filter.
    const fr = reminder().render(data, { name: null, language: 'fr' })
    expect([fr.language, fr.sms]).toEqual(['en', 'Hi there, a reminder of your appointment at North Clinic on 2026-12-24 at 09:30. Reply C to confirm.'])
  })

  it('checks the data against the data-schema, every problem at its path', () => {
    try {
      reminder().render({ clinic: '', date: '24/12/2026', extra: true }, { name: null, language: null })
      throw new Error('it rendered')
    } catch (err) {
      const e = err as AppError<'invalid_template_data'>
      expect(e.code).toBe('invalid_template_data')
      expect(e.details.errors).toEqual([
        'data: missing "time"',
        'data.extra: unknown property "extra"',
        'data.clinic: must not have fewer than 1 characters',
        'data.date: must match format "date"',
      ])
    }
  })

  it('takes a data schema with local references and boolean subschemas', () => {
    const p = prepared({
      'data-schema': { type: 'object', $defs: { hhmm: { type: 'string', pattern: '^[0-2][0-9]:[0-5][0-9]$' } }, properties: { at: { $ref: '#/$defs/hhmm' }, tags: { type: 'array', items: true, maxItems: 2 } }, additionalProperties: false },
      sms: 'At {{ data.at }}{% for t in data.tags %} #{{ t }}{% endfor %}',
    })
    expect(p.render({ at: '09:30', tags: ['a', 'b'] }, { name: null, language: null }).sms).toBe('At 09:30 #a #b')
    try {
      p.render({ at: '9.30', tags: [1, 2, 3] }, { name: null, language: null })
      throw new Error('it rendered')
    } catch (err) {
      expect((err as AppError<'invalid_template_data'>).details.errors).toEqual(['data.at: must match pattern "^[0-2][0-9]:[0-5][0-9]$"', 'data.tags: must not have more than 2 items'])
    }
  })

  it('refuses a variable the data lacks (strict), except in if and default; escapes HTML in html only', () => {
    const p = prepared({ sms: 'Hi {{ data.name }}{% if data.note %} ({{ data.note }}){% endif %}', email: { subject: '{{ data.name }}', html: '<p>{{ data.name }}</p>{{ data.raw | raw }}' }, languages: { es: { sms: 'Hola {{ data.nombre }}' } } })
    expect(p.render({ name: '<b>Ana</b>', raw: '<i>x</i>' }, { name: null, language: 'en' })).toMatchObject({
      sms: 'Hi <b>Ana</b>', email: { subject: '<b>Ana</b>', html: '<p>&lt;b&gt;Ana&lt;/b&gt;</p><i>x</i>' },
    })
    expect(renderError(p, { name: 'Ana', raw: '' }, 'es')).toEqual({ code: 'template_render_failed', errors: ['languages.es.sms: Liquid: undefined variable: data.nombre, line:1, col:9'] })
    expect(renderError(p, {})).toEqual({ code: 'template_render_failed', errors: [
      'sms: Liquid: undefined variable: data.name, line:1, col:7', 'email.subject: Liquid: undefined variable: data.name, line:1, col:4',
      'email.html: Liquid: undefined variable: data.name, line:1, col:7',
    ] })
    // Own properties only: the prototype is not data.
    expect(renderError(prepared({ sms: '{{ data.constructor }}' }), {}).errors).toEqual(['sms: Liquid: undefined variable: data.constructor, line:1, col:4'])
  })

  it('bounds a rendering: memory, time and output length', () => {
    expect(renderError(prepared({ sms: '{% for i in (1..100000000) %}{{ i }}{% endfor %}' }), {}).errors[0]).toMatch(/^sms: Liquid: memory alloc limit exceeded/)
    const doubling = '{% assign s = "xxxxxxxxxx" %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}{{ s }}'
    expect(renderError(prepared({ sms: doubling }), {}).errors[0]).toMatch(/^sms: Liquid: memory alloc limit exceeded/)
    const long = '{% for i in (1..700) %}' + 'x'.repeat(100) + '{% endfor %}'
    expect(renderError(prepared({ sms: long }), {}).errors).toEqual(['sms: renders longer than 65536 characters'])
    const slow = '{% for i in (1..900) %}{% for j in (1..900) %}{% for k in (1..900) %}{% endfor %}{% endfor %}{% endfor %}'
    expect(renderError(prepared({ sms: slow }), {}).errors[0]).toMatch(/^sms: Liquid: (template render limit exceeded|memory alloc limit exceeded)/)
  })
})
