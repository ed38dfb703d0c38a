import { createECDH, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto'
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import webpush from 'web-push'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TwilioPeer } from '../../test/peers/twilio.ts'
import type { Resolver, UrlPolicy } from '../lib/url-safety.ts'
import { createSmtpProvider } from './email/smtp.ts'
import type { ProviderOptions } from './http.ts'
import { createFacebookMessengerProvider } from './messenger/facebook.ts'
import { createApnsProvider } from './push/apns.ts'
import { createFcmProvider } from './push/fcm.ts'
import { createWebPushProvider } from './push/webpush.ts'
import { createTwilioProvider } from './twilio.ts'
import type { ChannelProvider, OutboundMessage } from './types.ts'

// Every outbound connection a tenant's settings can steer goes through the guarded client, which
// checks the address a host name resolves to when the connection is made. The names below resolve
// (through an injected resolver, as DNS rebinding would have them) to loopback, where a server
// counts the connections it gets: under the strict policy none may arrive; with the name allowed
// by the operator the very same settings do connect (so the refusal is the check, not the name).

const REBOUND = 'rebound.example.com'
const toLoopback: Resolver = async (host) => (host === REBOUND ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '93.184.215.14', family: 4 }])
const strict: ProviderOptions = { urlPolicy: { allowPrivate: false, allowedHosts: [] }, resolve: toLoopback }
const allowed: ProviderOptions = { urlPolicy: { allowPrivate: false, allowedHosts: [REBOUND] } satisfies UrlPolicy, resolve: toLoopback }

let server: Server
let port = 0
let connections = 0
const sockets = new Set<Socket>()
beforeAll(async () => {
  server = createServer((socket) => {
    connections++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    // Say nothing sensible: whatever connects gets an error or closes.
    socket.end('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n')
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  port = (server.address() as AddressInfo).port
})
afterAll(async () => {
  for (const s of sockets) s.destroy()
  await new Promise<void>((r) => server.close(() => r()))
})

const base = () => `http://${REBOUND}:${port}`
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
const vapid = webpush.generateVAPIDKeys()
const subscription = () => {
  const ecdh = createECDH('prime256v1')
  ecdh.generateKeys()
  return JSON.stringify({ endpoint: `${base()}/push/1`, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') } })
}

/** Each provider, built for `options`, and a message it would send through the rebound name. */
const cases: Array<[string, (o: ProviderOptions) => ChannelProvider, () => OutboundMessage]> = [
  ['twilio (baseUrl)', (o) => createTwilioProvider('sms', { provider: 'twilio', accountSid: 'AC' + 'a'.repeat(32), authToken: 't', from: '+15005550006', baseUrl: base(), timeoutMs: 2000 }, o) as ChannelProvider,
    () => ({ id: randomUUID(), channel: 'sms', to: '+14155550100', body: 'hi' })],
  ['facebook (graphBase)', (o) => createFacebookMessengerProvider('messenger', { provider: 'facebook', pageAccessToken: 'x', graphBase: base(), timeoutMs: 2000 }, o) as ChannelProvider,
    () => ({ id: randomUUID(), channel: 'messenger', to: 'PSID1', body: 'hi' })],
  ['fcm (serviceAccount.token_uri)', (o) => createFcmProvider('push', {
    provider: 'fcm', timeoutMs: 2000,
    serviceAccount: { project_id: 'p', client_email: 'a@p.iam.gserviceaccount.com', private_key: rsa, token_uri: `${base()}/token` },
  }, o) as ChannelProvider, () => ({ id: randomUUID(), channel: 'push', to: 'device-token', body: 'hi' })],
  ['apns (baseUrl)', (o) => createApnsProvider('push', {
    provider: 'apns', teamId: 'TEAM123456', keyId: 'KEY1234567', topic: 'org.example', privateKey: ec, baseUrl: base(), timeoutMs: 2000,
  }, o) as ChannelProvider, () => ({ id: randomUUID(), channel: 'push', to: randomBytes(32).toString('hex'), body: 'hi' })],
  ['webpush (endpoint)', (o) => createWebPushProvider('push', {
    provider: 'webpush', vapidPublicKey: vapid.publicKey, vapidPrivateKey: vapid.privateKey, subject: 'mailto:ops@example.org', timeoutMs: 2000,
  }, o) as ChannelProvider, () => ({ id: randomUUID(), channel: 'push', to: subscription(), body: 'hi' })],
  ['smtp (host)', (o) => createSmtpProvider('email', { provider: 'smtp', host: REBOUND, port, from: 'care@clinic.example', timeoutMs: 2000 }, o) as ChannelProvider,
    () => ({ id: randomUUID(), channel: 'email', to: 'a@example.org', body: 'hi' })],
  ['smtp (attachment URL)', (o) => createSmtpProvider('email', { provider: 'smtp', host: 'smtp.example.com', port: 1, from: 'care@clinic.example', timeoutMs: 2000 }, o) as ChannelProvider,
    () => ({ id: randomUUID(), channel: 'email', to: 'a@example.org', body: 'hi', data: { attachments: [{ filename: 'a.pdf', url: `${base()}/a.pdf` }] } })],
]

describe('the guarded HTTP client, at connect time', () => {
  it.each(cases)('%s: a name that resolves to loopback when connecting is refused, permanently, and nothing connects', async (_name, build, message) => {
    const provider = build(strict)
    const before = connections
    try {
      const refused = provider.send(message() as never)
      await expect(refused).rejects.toMatchObject({ retryable: false, message: expect.stringMatching(/resolves to 127\.0\.0\.1, a loopback address/) })
      await expect(refused).rejects.toMatchObject({ code: expect.stringMatching(/^(unsafe_endpoint|invalid_message)$/) })
      expect(connections - before).toBe(0)
    } finally {
      await provider.close?.()
    }
  })

  it.each(cases)('%s: the same name allowed by the operator does connect', async (_name, build, message) => {
    const provider = build(allowed)
    const before = connections
    try {
      await provider.send(message() as never).catch(() => undefined)
      expect(connections - before).toBeGreaterThan(0)
    } finally {
      await provider.close?.()
    }
  })

  it('a literal loopback address is refused too (sockets do not look literals up)', async () => {
    const twilio = createTwilioProvider('sms', { provider: 'twilio', accountSid: 'AC' + 'a'.repeat(32), authToken: 't', from: '+15005550006', baseUrl: `http://127.0.0.1:${port}` }, strict)
    const before = connections
    await expect(twilio.send({ id: randomUUID(), channel: 'sms', to: '+14155550100', body: 'hi' })).rejects.toMatchObject({ code: 'unsafe_endpoint', retryable: false, message: expect.stringContaining('127.0.0.1 is a loopback address') })
    expect(connections - before).toBe(0)
    await twilio.close?.()
  })

  it('Twilio sends through the guarded agent to an allowed peer and reuses its connections', async () => {
    const peer = await new TwilioPeer({ numbers: ['+15005550006'] }).start()
    const twilio = createTwilioProvider('sms', { provider: 'twilio', accountSid: peer.accountSid, authToken: peer.authToken, from: '+15005550006', baseUrl: peer.url.replace('127.0.0.1', REBOUND) }, allowed)
    try {
      for (let i = 0; i < 3; i++) await expect(twilio.send({ id: randomUUID(), channel: 'sms', to: '+14155550100', body: `hi ${i}` })).resolves.toMatchObject({ status: 'sent' })
      expect(peer.connections).toBe(1)
    } finally {
      await twilio.close?.()
      await peer.stop()
    }
  })
})
