import { loadConfig, ConfigError, type Config } from '../config.ts'
import { migrate } from '../db/migrate.ts'
import { openStore, type Store } from '../db/store.ts'
import { redactStoredSetupVersions } from '../core/contact-center/index.ts'

/** Where a CLI run writes and what it reads: the process's streams and environment, or a test's. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown }
  readonly stderr: { write(text: string): unknown }
  readonly env: NodeJS.ProcessEnv
  /** The standard input, asked for only by commands that read it (`-` files, passwords); absent = empty. */
  readonly stdin?: () => NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown }
  /** An open, migrated store to use instead of opening the configured one (tests); left open. */
  readonly store?: Store
  /** The last resort of a shutdown that hangs (serve); the process entry passes `process.exit`. */
  readonly exit?: (code: number) => void
}

/** Ends a command with an exit code and a message for stderr (`runCli` prints it). */
export class CliExit extends Error {
  readonly exitCode: number
  constructor(message: string, exitCode: number) {
    super(message)
    this.name = 'CliExit'
    this.exitCode = exitCode
  }
}

/** Stop the command: `message` on stderr, exit `code` (2: usage or configuration, 1: failure). */
export function fail(message: string, code = 2): never {
  throw new CliExit(message, code)
}

/** The configuration from the run's environment; an invalid one exits 2 naming the variable. */
export function configFrom(io: CliIo): Config {
  try {
    return loadConfig(io.env)
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message)
    throw err
  }
}

/** Open and migrate the configured store (or use the run's own), run `fn`, close what was opened. */
export async function withStore<T>(config: Config, io: CliIo, fn: (store: Store) => Promise<T>): Promise<T> {
  if (io.store) return fn(io.store)
  const store = await openMigrated(config)
  try {
    return await fn(store)
  } finally {
    await store.close()
  }
}

/**
 * Apply the migrations, then the data steps SQL cannot do (they need the master key): setup
 * versions kept before migration 0025 get their clear secrets sealed or hashed. Both are idempotent.
 */
export async function migrateAll(store: Store, secretKey: Buffer): Promise<{ applied: string[]; total: number; redactedSetupVersions: number }> {
  const result = await migrate(store.pool)
  const redactedSetupVersions = await redactStoredSetupVersions(store.db, secretKey)
  return { ...result, redactedSetupVersions }
}

/** Open the configured store and apply the migrations. */
export async function openMigrated(config: Config, signal?: AbortSignal): Promise<Store> {
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, ...(signal ? { signal } : {}) })
  try {
    // A stop asked for while the store opened: no migration is started.
    signal?.throwIfAborted()
    await migrateAll(store, config.secretKey)
  } catch (err) {
    await store.close()
    throw err
  }
  return store
}
