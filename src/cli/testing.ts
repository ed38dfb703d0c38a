import { Readable } from 'node:stream'
import type { Store } from '../db/store.ts'
import { runCli } from './index.ts'

/** What one in-process CLI run printed, and its exit code. */
export interface CliRun { code: number; stdout: string; stderr: string }

/**
 * Runs the CLI in-process over `store` (tests): the environment of `testConfig` (a fixed secret
 * key, no data dir writes, quiet logs) plus `env`. `input`, when given, is the run's standard input.
 */
export function cliOver(store: Store | undefined, env: Record<string, string> = {}): (args: string[], input?: string) => Promise<CliRun> {
  return async (args, input) => {
    let stdout = ''
    let stderr = ''
    const code = await runCli(args, {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      env: { SWITCHBOARD_SECRET_KEY: '0'.repeat(64), SWITCHBOARD_DATA_DIR: '/nonexistent', LOG_LEVEL: 'silent', ...env },
      ...(store ? { store } : {}),
      ...(input !== undefined ? { stdin: () => Readable.from([Buffer.from(input)]) } : {}),
    })
    return { code, stdout, stderr }
  }
}

/** A tenant made through `tenant create --json` (tests): its name, the person API's Basic credentials, the Apps API subdomain. */
export async function tenantViaCli(cli: (args: string[]) => Promise<CliRun>, prefix: string): Promise<{ name: string; auth: string; subdomain: string; cassClient: string }> {
  const name = `${prefix} ${Date.now()} ${Math.random().toString(36).slice(2, 6)}`
  const made = await cli(['tenant', 'create', '--name', name, '--json'])
  if (made.code !== 0) throw new Error(`tenant create failed: ${made.stderr}`)
  const created = JSON.parse(made.stdout) as { cass: { client: string; token: string }; ccai: { subdomain: string } }
  const auth = 'Basic ' + Buffer.from(`${created.cass.client}:${created.cass.token}`).toString('base64')
  return { name, auth, subdomain: created.ccai.subdomain, cassClient: created.cass.client }
}
