import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SmtpPeer } from '../../../test/peers/smtp.ts'
import { createTenant } from '../../../test/factories/tenants.ts'
import { startProviderTestApp } from '../../../test/helpers/providers.ts'
import { waitFor } from '../../../test/helpers/wait.ts'
import type { ChannelSettings as ChannelProviderSettings } from '../registry.ts'
import type { TestApp } from '../../../test/helpers/app.ts'
import { createSmtpProvider } from './smtp.ts'

let peer: SmtpPeer
let files: Server
let filesUrl = ''
let t: TestApp & { stop(): Promise<void> }
const settingsByTenant = new Map<string, ChannelProviderSettings>()
const policy = { allowPrivate: true, allowedHosts: [] }
const PDF = Buffer.from('%PDF-1.4 a tiny care plan')

function settings(overrides: Record<string, unknown> = {}): ChannelProviderSettings {
  return { provider: 'smtp', host: '127.0.0.1', port: String(peer.port), requireTLS: 'true', user: 'mailer', pass: 's3cret', from: 'Care Team <care@clinic.example>', ca: peer.cert.cert, ...overrides }
}

beforeAll(async () => {
  peer = await new SmtpPeer('mailer', 's3cret').start()
  files = createServer((req, res) => {
    if (req.url === '/plan.pdf') return res.writeHead(200, { 'content-type': 'application/pdf' }).end(PDF)
    res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve))
  filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`
  t = await startProviderTestApp(settingsByTenant)
})
afterAll(async () => {
  await t?.stop()
  await peer?.stop()
  files?.closeAllConnections()
  await new Promise((resolve) => files?.close(resolve))
})

describe('SMTP provider', () => {
  it('sends text and HTML parts with attachments (inline base64 and fetched from a URL) over STARTTLS with auth, on pooled connections', async () => {
    const smtp = createSmtpProvider('email', settings(), { urlPolicy: policy })
    const id = randomUUID()
    const result = await smtp.send({
      id, channel: 'email', to: 'ada@example.org', subject: 'Your care plan', body: 'Plain text version',
      data: {
        html: '<p>HTML <b>version</b></p>', replyTo: 'nurse@clinic.example',
        attachments: [
          { filename: 'note.txt', content: Buffer.from('hello attachment').toString('base64'), contentType: 'text/plain' },
          { filename: 'plan.pdf', url: `${filesUrl}/plan.pdf` },
        ],
      },
    })
    expect(result).toEqual({ providerMessageId: `<${id}@clinic.example>`, status: 'sent' })
    const got = peer.mails.at(-1)!
    expect(got.envelope).toEqual({ from: 'care@clinic.example', to: ['ada@example.org'] })
    expect(got.mail.subject).toBe('Your care plan')
    expect(got.mail.text?.trim()).toBe('Plain text version')
    expect(got.mail.html).toContain('<b>version</b>')
    expect(got.mail.messageId).toBe(`<${id}@clinic.example>`)
    expect(got.mail.replyTo?.text).toBe('nurse@clinic.example')
    expect(got.mail.attachments.map((a) => [a.filename, a.contentType, a.content.toString()])).toEqual([
      ['note.txt', 'text/plain', 'hello attachment'],
      ['plan.pdf', 'application/pdf', PDF.toString()],
    ])
    // The pool keeps the connection: more mails, no new connection.
    const connections = peer.connections
    for (let i = 0; i < 3; i++) await smtp.send({ id: randomUUID(), channel: 'email', to: `p${i}@example.org`, subject: 's', body: 'b' })
    expect(peer.connections).toBe(connections)
    await smtp.close?.()
  })

  it('maps SMTP replies: 550 permanent, 451 retryable, 535 bad credentials permanent, refused connection retryable', async () => {
    const smtp = createSmtpProvider('email', settings(), { urlPolicy: policy })
    const send = (to: string, p = smtp) => p.send({ id: randomUUID(), channel: 'email', to, subject: 's', body: 'b' })
    await expect(send('reject@example.org')).rejects.toMatchObject({ code: 'rejected', status: 550, retryable: false })
    await expect(send('later@example.org')).rejects.toMatchObject({ code: 'temporary_failure', status: 451, retryable: true })
    const wrong = createSmtpProvider('email', settings({ pass: 'nope' }), { urlPolicy: policy })
    await expect(send('ada@example.org', wrong)).rejects.toMatchObject({ code: 'auth_failed', retryable: false })
    const down = createSmtpProvider('email', settings({ port: '1' }), { urlPolicy: policy })
    await expect(send('ada@example.org', down)).rejects.toMatchObject({ code: 'connection_failed', retryable: true })
    // Attachments: a missing file is permanent; a private URL under the strict policy is refused.
    await expect(smtp.send({ id: randomUUID(), channel: 'email', to: 'a@example.org', body: 'b', data: { attachments: [{ filename: 'x', url: `${filesUrl}/missing` }] } }))
      .rejects.toMatchObject({ code: 'attachment_unavailable', retryable: false })
    const strict = createSmtpProvider('email', settings())
    await expect(strict.send({ id: randomUUID(), channel: 'email', to: 'a@example.org', body: 'b', data: { attachments: [{ filename: 'x', url: `${filesUrl}/plan.pdf` }] } }))
      .rejects.toMatchObject({ code: 'invalid_message', retryable: false })
    await expect(smtp.send({ id: randomUUID(), channel: 'email', to: 'a@example.org', body: 'b', data: { attachments: [{ filename: 'x' }] } })).rejects.toMatchObject({ code: 'invalid_message' })
    // The SMTP host is the tenant's to name: under the strict policy a loopback or private server,
    // by address or by name, is refused before any connection, and nothing reaches it.
    const before = peer.mails.length
    await expect(strict.send({ id: randomUUID(), channel: 'email', to: 'a@example.org', body: 'b' }))
      .rejects.toMatchObject({ code: 'unsafe_endpoint', retryable: false, message: expect.stringContaining('127.0.0.1 is a loopback address') })
    for (const host of ['localhost', '10.0.0.5', '169.254.169.254', '[::1]']) {
      const p = createSmtpProvider('email', settings({ host }))
      await expect(p.send({ id: randomUUID(), channel: 'email', to: 'a@example.org', body: 'b' }), host).rejects.toMatchObject({ code: 'unsafe_endpoint', retryable: false })
      await p.close?.()
    }
    expect(peer.mails.length).toBe(before)
    for (const p of [smtp, wrong, down, strict]) await p.close?.()
  })

  it('refuses bad settings', () => {
    expect(() => createSmtpProvider('email', { provider: 'smtp', from: 'a@b.c' })).toThrow(/host/)
    expect(() => createSmtpProvider('email', { provider: 'smtp', host: 'h', from: 'a@b.c', port: 'abc' })).toThrow(/port/)
    expect(() => createSmtpProvider('email', { provider: 'smtp', host: 'h', from: 'a@b.c', user: 'u' })).toThrow(/user/)
    expect(() => createSmtpProvider('email', { provider: 'smtp', host: 'h' })).toThrow(/from/)
  })

  it('end to end: delivery.send → worker → SMTP server', async () => {
    const { tenant } = await createTenant(t.services)
    settingsByTenant.set(`${tenant.id}:email`, settings())
    const to = `${randomUUID()}@example.org`
    const { message } = await t.services.delivery.send(tenant, { channel: 'email', to, subject: 'Welcome', body: 'Welcome to the clinic', data: { html: '<h1>Welcome</h1>' } })
    const sent = await waitFor('the mail to be sent', async () => {
      const m = await t.services.delivery.getOutbox(tenant, message.id)
      return m.status === 'sent' ? m : undefined
    })
    expect(sent).toMatchObject({ provider: 'smtp', providerMessageId: `<${message.id}@clinic.example>` })
    const got = peer.mails.filter((m) => m.envelope.to[0] === to)
    expect(got).toHaveLength(1)
    expect(got[0]!.mail.html).toContain('<h1>Welcome</h1>')
  })
})
