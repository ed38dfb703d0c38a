import { generateKeyPairSync } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant } from '../../../test/factories/tenants.ts'
import { startTestApp, type TestApp } from '../../../test/helpers/app.ts'
import { STRICT_URL_POLICY, type Resolver } from '../../lib/url-safety.ts'
import { createTwilioProvider } from '../../providers/twilio.ts'
import { ValidationError } from '../errors.ts'
import { ProviderSettingsService } from './provider-settings.service.ts'

// Saving a provider's options checks every URL in them against the outbound URL policy: nested
// ones (FCM's service account `token_uri`) and ones a URL parser reads as http without `//`.
let t: TestApp
let settings: ProviderSettingsService
// Public names resolve to a public address; nothing here needs the network.
const publicDns: Resolver = async () => [{ address: '93.184.215.14', family: 4 }]
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
const serviceAccount = (tokenUri: string) => ({ type: 'service_account', project_id: 'p', client_email: 'a@p.iam.gserviceaccount.com', private_key: rsa, token_uri: tokenUri })

beforeAll(async () => {
  t = await startTestApp()
  const providers = t.services.providers
  settings = new ProviderSettingsService(t.store.db, t.config.secretKey, { vendors: () => providers.vendors(), problem: (c, s) => providers.problem(c, s) }, { resolve: publicDns })
})
afterAll(async () => {
  await t?.close()
})

async function refusal(channel: string, vendor: string, options: Record<string, unknown>): Promise<ValidationError> {
  const { tenant } = await createTenant(t.services)
  const err = await settings.set(tenant, channel, vendor, options).then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(ValidationError)
  // Nothing was stored.
  expect((await settings.get(tenant, channel)).configured).toBe(false)
  return err as ValidationError
}

describe('provider options: URL checks when saved', () => {
  it('refuses a metadata or loopback token_uri inside FCM’s service account, as an object or as JSON text', async () => {
    for (const tokenUri of ['http://169.254.169.254/computeMetadata/v1/token', 'https://metadata.google.internal/token', 'http://127.0.0.1:18151/token']) {
      for (const sa of [serviceAccount(tokenUri), JSON.stringify(serviceAccount(tokenUri))]) {
        const err = await refusal('push', 'fcm', { serviceAccount: sa })
        expect(err.code, tokenUri).toBe('unsafe_url')
        expect(err.message).toMatch(/^option serviceAccount\.token_uri: .*(metadata|loopback) address/)
        expect(err.details).toMatchObject({ option: 'serviceAccount.token_uri', reason: 'host_not_allowed' })
      }
    }
  })

  it('refuses http URLs written without // (the way a URL parser, and so the provider, reads them)', async () => {
    for (const graphBase of ['http:127.0.0.1:18151', 'HTTP:\\\\127.0.0.1:18151', ' http:/169.254.169.254', 'http:\t//10.0.0.1']) {
      const err = await refusal('messenger', 'facebook', { pageAccessToken: 'x', graphBase })
      expect(err.code, graphBase).toBe('unsafe_url')
      expect(err.message).toMatch(/^option graphBase: .*(loopback|metadata|private) address/)
    }
  })

  it('accepts the same options with public URLs', async () => {
    const { tenant } = await createTenant(t.services)
    await expect(settings.set(tenant, 'push', 'fcm', { serviceAccount: JSON.stringify(serviceAccount('https://oauth2.googleapis.com/token')) })).resolves.toMatchObject({ configured: true })
    await expect(settings.set(tenant, 'messenger', 'facebook', { pageAccessToken: 'x', graphBase: 'https://graph.facebook.com' })).resolves.toMatchObject({ configured: true })
    // A sender number or a mailto: subject is no URL to check.
    await expect(settings.set(tenant, 'push', 'webpush', { vapidPublicKey: 'BKf', vapidPrivateKey: 'x', subject: 'mailto:ops@example.org' }).catch((e: ValidationError) => e.code)).resolves.not.toBe('unsafe_url')
  })

  it('a name that passed when saved and resolves to loopback later is refused when the provider connects (DNS rebinding)', async () => {
    const { tenant } = await createTenant(t.services)
    await settings.set(tenant, 'sms', 'twilio', { accountSid: 'AC' + 'a'.repeat(32), authToken: 't', from: '+15005550006', baseUrl: 'http://rebound.example.com:9' })
    const stored = await settings.channelSettings(tenant.id, 'sms')
    const rebound: Resolver = async () => [{ address: '127.0.0.1', family: 4 }]
    const twilio = createTwilioProvider('sms', stored!, { urlPolicy: STRICT_URL_POLICY, resolve: rebound })
    await expect(twilio.send({ id: crypto.randomUUID(), channel: 'sms', to: '+14155550100', body: 'hi' }))
      .rejects.toMatchObject({ code: 'unsafe_endpoint', retryable: false, message: 'twilio: rebound.example.com resolves to 127.0.0.1, a loopback address' })
    await twilio.close?.()
  })
})
