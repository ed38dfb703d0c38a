// The database's own write limit on this machine, for `npm run bench` to compare person create and
// patch with: RAW_CONNECTIONS `pg` clients (one connection each, like pgbench's clients) insert
// single rows into a table shaped like `people` (same columns, the same two partial unique
// indexes per tenant) in autocommit, as fast as they can, for RAW_WARMUP + RAW_DURATION seconds;
// then the same clients update single rows by primary key (changing `first_name`, as the PATCH
// scenario does). Only the measured seconds count. Prints one JSON line:
//   {"insert": {tps, p50, p99, count}, "update": {...}}
//
//   RAW_DATABASE_URL   the database (the bench's own; the table is created and dropped here)
//   RAW_CONNECTIONS    clients (50)
//   RAW_DURATION       measured seconds per phase (10)
//   RAW_WARMUP         unmeasured seconds before each phase (2)
//
// Run by bench/run.ts in its own process, like the servers it is compared with.
import { randomUUID } from 'node:crypto'
import pg from 'pg'

const url = process.env.RAW_DATABASE_URL
if (!url) throw new Error('RAW_DATABASE_URL is required')
const CONNECTIONS = Number(process.env.RAW_CONNECTIONS ?? 50)
const DURATION = Number(process.env.RAW_DURATION ?? 10)
const WARMUP = Number(process.env.RAW_WARMUP ?? 2)
const TABLE = 'bench_raw_people'

interface Figures { tps: number; p50: number; p99: number; count: number }

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

/** Every client runs `op` in a loop; answers throughput and latency of the measured window. */
async function phase(clients: pg.Client[], op: (c: pg.Client, n: number) => Promise<unknown>): Promise<Figures> {
  let n = 0
  const latencies: number[] = []
  const start = Date.now()
  const measureFrom = start + WARMUP * 1000
  const end = measureFrom + DURATION * 1000
  await Promise.all(clients.map(async (c) => {
    while (Date.now() < end) {
      const t0 = performance.now()
      await op(c, n++)
      const t1 = performance.now()
      if (Date.now() >= measureFrom && Date.now() < end) latencies.push(t1 - t0)
    }
  }))
  latencies.sort((a, b) => a - b)
  return { tps: latencies.length / DURATION, p50: Math.round(percentile(latencies, 50)), p99: Math.round(percentile(latencies, 99)), count: latencies.length }
}

const admin = new pg.Client({ connectionString: url })
await admin.connect()
await admin.query(`DROP TABLE IF EXISTS ${TABLE}`)
await admin.query(`CREATE TABLE ${TABLE} (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL,
  first_name text, last_name text, phone text, email text, external_id text,
  external_username text, external_org text, external_data_1 text, external_data_2 text, external_data_3 text,
  protocol text NOT NULL DEFAULT 'sms', language_type text, gender text, timezone text,
  created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())`)
await admin.query(`CREATE UNIQUE INDEX ${TABLE}_phone ON ${TABLE} (tenant_id, phone) WHERE phone IS NOT NULL`)
await admin.query(`CREATE UNIQUE INDEX ${TABLE}_external_id ON ${TABLE} (tenant_id, external_id) WHERE external_id IS NOT NULL`)

const clients = await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  return c
}))
const tenant = randomUUID()
const ids: string[] = []
try {
  const insert = await phase(clients, async (c, n) => {
    const r = await c.query<{ id: string }>({
      name: 'raw_insert',
      text: `INSERT INTO ${TABLE} (tenant_id, first_name, last_name, phone, external_id) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      values: [tenant, 'Bench', `Person ${n}`, '+1415' + String(2_000_000 + n), `raw-${n}`],
    })
    if (ids.length < 10_000) ids.push(r.rows[0]!.id)
  })
  const update = await phase(clients, (c, n) => c.query({
    name: 'raw_update',
    text: `UPDATE ${TABLE} SET first_name = $1, updated_at = now() WHERE id = $2`,
    values: [`Renamed ${n}`, ids[n % ids.length]],
  }))
  process.stdout.write(JSON.stringify({ connections: CONNECTIONS, insert, update }) + '\n')
} finally {
  await Promise.all(clients.map((c) => c.end()))
  await admin.query(`DROP TABLE IF EXISTS ${TABLE}`)
  await admin.end()
}
