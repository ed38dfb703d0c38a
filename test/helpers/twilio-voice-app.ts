import { TwilioVoicePeer } from '../peers/twilio-voice.ts'
import { startTestApp, type TestApp } from './app.ts'
import { freePort } from './process.ts'

/**
 * The app listening on a real port whose public URL is that port (Twilio's callbacks and TwiML URLs
 * point at it, and their signatures cover it), with the job workers, beside a local Twilio
 * Programmable Voice peer holding `numbers`; the peer is on loopback, allowed by the operator's list
 * as a closed network would be. `close` stops both.
 */
export async function startTwilioVoiceApp(numbers: string[]): Promise<{ t: TestApp; peer: TwilioVoicePeer; port: number; close(): Promise<void> }> {
  const peer = await new TwilioVoicePeer({ numbers }).start()
  const port = await freePort()
  const t = await startTestApp({
    workers: true, listen: true, port, isolated: true,
    config: { SWITCHBOARD_PUBLIC_URL: `http://127.0.0.1:${port}`, SWITCHBOARD_ALLOWED_URL_HOSTS: '127.0.0.1' },
  })
  return {
    t, peer, port,
    async close() {
      await t.close()
      await peer.stop()
    },
  }
}
