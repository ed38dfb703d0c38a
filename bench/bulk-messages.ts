// One bulk message to N individuals (BENCH_INDIVIDUALS, 10,000) with auto-create-channel, on
// PostgreSQL (README "Messaging bulk messages"): a fresh database (created and dropped), the
// tenant made and the individuals imported with the real CLI, a sender individual; then in this
// process the services over the store with the job workers running (as `serve`/`worker` runs them):
// the bulk message is created (POST #41's work: checks, the worklist, the job enqueued) and the
// clock runs until it reads `posted` — every recipient with a new channel and one message in it.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node bench/bulk-messages.ts
// Environment: BENCH_INDIVIDUALS (10000), BENCH_BULK_CONCURRENCY (recipients posted at once; 4).
import { execFileSync } from 'node:child_process'
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { loadConfig } from '../src/config.ts'
import { openStore } from '../src/db/store.ts'
import { createServices } from '../src/services.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const N = Number(process.env.BENCH_INDIVIDUALS ?? 10_000)
const CONCURRENCY = Number(process.env.BENCH_BULK_CONCURRENCY ?? 4)
const base = process.env.DATABASE_URL
if (!base) throw new Error('DATABASE_URL (PostgreSQL) is required')

const dir = mkdtempSync(join(tmpdir(), 'sb-bulk-bench-'))
const dbName = `sb_bulk_bench_${process.pid}`
const admin = new pg.Client({ connectionString: base })
await admin.connect()
await admin.query(`CREATE DATABASE ${dbName}`)
const url = new URL(base)
url.pathname = `/${dbName}`
try {
  const file = join(dir, 'individuals.csv')
  const out = createWriteStream(file)
  out.write('external_id,first_name,last_name,phone\n')
  for (let i = 0; i < N; i++) out.write(`bulk-${i},First${i},Last${i},+1415${String(3000000 + i).padStart(7, '0')}\n`)
  out.write('bulk-sender,Nurse,Sender,\n')
  await new Promise<void>((r) => out.end(() => r()))
  const env = { ...process.env, DATABASE_URL: url.toString(), SWITCHBOARD_DATA_DIR: dir, LOG_LEVEL: 'silent' }
  execFileSync('node', ['src/main.ts', 'tenant', 'create', '--name', 'Bench'], { cwd: ROOT, env, stdio: 'ignore' })
  execFileSync('node', ['src/main.ts', 'directory', 'import', '--tenant', 'Bench', file, '--json'], { cwd: ROOT, env, stdio: 'ignore' })

  const config = loadConfig(env)
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })
  const services = createServices(config, store, { bulkMessageJob: { concurrency: CONCURRENCY } })
  try {
    const tenant = (await services.tenants.findByName('Bench'))!
    const ids = await store.db.selectFrom('people as p').innerJoin('person_identities as i', (j) => j.onRef('i.person_id', '=', 'p.id').on('i.surface', '=', 'cass'))
      .select(['i.public_id', 'p.external_id']).where('p.tenant_id', '=', tenant.id).execute()
    const sender = ids.find((r) => r.external_id === 'bulk-sender')!.public_id
    const recipients = ids.filter((r) => r.external_id !== 'bulk-sender').map((r) => r.public_id)
    await services.jobs.work({ pollingIntervalSeconds: 0.5 })
    const started = Date.now()
    const bulk = await services.bulkMessages.create(tenant, {
      createdBy: tenant.id, individualIds: recipients, autoCreateChannel: true, senderIndividualId: sender,
      message: 'Clinic closed on Friday', messageJs: { en_US: 'Clinic closed on Friday', es_US: 'La clínica cierra el viernes' },
    })
    const createdMs = Date.now() - started
    for (;;) {
      const b = await services.bulkMessages.get(tenant, bulk.id)
      if (b.state === 'posted') {
        const seconds = (Date.now() - started) / 1000
        const messages = await store.db.selectFrom('msg_messages').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tenant.id).executeTakeFirstOrThrow()
        const channels = await store.db.selectFrom('msg_channels').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tenant.id).executeTakeFirstOrThrow()
        console.log(`${recipients.length} recipients, auto-create, concurrency ${CONCURRENCY}: posted in ${seconds.toFixed(1)} s (create ${createdMs} ms), `
          + `${b.progress.posted} posted, ${b.progress.skipped} skipped, ${messages.n} messages, ${channels.n} channels`)
        break
      }
      await new Promise((r) => setTimeout(r, 250))
    }
  } finally {
    await services.jobs.stop()
    await services.providers.close()
    await store.close()
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
  await admin.end()
}
