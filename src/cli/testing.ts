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
