import type { Channel, ChannelProviderSettings } from '../../src/core/delivery/index.ts'
import { startTestApp, type TestApp } from './app.ts'

/**
 * The app with working delivery for provider tests: a pg-boss schema of this file's own (no other
 * file's workers take its jobs), workers running, tenant provider settings from `settings` (by
 * tenant id and channel), and private URLs allowed so providers may talk to local peers.
 * `stop()` closes it and drops the schema.
 */
export async function startProviderTestApp(settings: Map<string, ChannelProviderSettings>, options: { listen?: boolean } = {}): Promise<TestApp & { stop(): Promise<void> }> {
  const t = await startTestApp({
    listen: options.listen ?? false,
    workers: true,
    config: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true' },
    services: {
      sendRetry: { retryDelaySeconds: 1, retryLimit: 3 },
      channelSettings: async (tenantId: string, channel: Channel) => settings.get(`${tenantId}:${channel}`),
    },
  })
  return { ...t, stop: () => t.close() }
}
