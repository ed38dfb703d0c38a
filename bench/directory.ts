// The directory import at scale (README "Messaging API: the directory"): writes a CSV of N
// individuals (BENCH_INDIVIDUALS, 100,000) and imports it twice with the real CLI in a child
// process (`node src/main.ts directory import --tenant <t> <file> --json`) against DATABASE_URL (a
// fresh database, created and dropped), under `/usr/bin/time -f %M` for the child's peak RSS.
// The first run creates everyone, the second finds them unchanged.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node bench/directory.ts
import { execFileSync, spawnSync } from 'node:child_process'
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const N = Number(process.env.BENCH_INDIVIDUALS ?? 100_000)
const base = process.env.DATABASE_URL
if (!base) throw new Error('DATABASE_URL (PostgreSQL) is required')

async function writeCsv(file: string): Promise<void> {
  const out = createWriteStream(file)
  out.write('external_id,first_name,last_name,preferred_name,birth_date,phone,account_type\n')
  for (let i = 0; i < N; i++) {
    const line = `ext-${i},First${i},"Last, ${i}",P${i},19${String(50 + (i % 50)).padStart(2, '0')}-0${1 + (i % 9)}-1${i % 10},+1415${String(2000000 + i).padStart(7, '0')},patient\n`
    if (!out.write(line)) await new Promise<void>((r) => out.once('drain', () => r()))
  }
  await new Promise<void>((r) => out.end(() => r()))
}

const dir = mkdtempSync(join(tmpdir(), 'sb-directory-bench-'))
const file = join(dir, 'individuals.csv')
const dbName = `sb_directory_bench_${process.pid}`
const admin = new pg.Client({ connectionString: base })
await admin.connect()
await admin.query(`CREATE DATABASE ${dbName}`)
const url = new URL(base)
url.pathname = `/${dbName}`
try {
  await writeCsv(file)
  const env = { ...process.env, DATABASE_URL: url.toString(), SWITCHBOARD_DATA_DIR: dir, LOG_LEVEL: 'silent' }
  execFileSync('node', ['src/main.ts', 'tenant', 'create', '--name', 'Bench'], { cwd: ROOT, env, stdio: 'ignore' })
  for (const run of ['first (all created)', 'second (all unchanged)']) {
    const started = Date.now()
    const r = spawnSync('/usr/bin/time', ['-f', '%M', 'node', 'src/main.ts', 'directory', 'import', '--tenant', 'Bench', file, '--json'], { cwd: ROOT, env, encoding: 'utf8' })
    const seconds = (Date.now() - started) / 1000
    if (r.status !== 0) throw new Error(`import failed: ${r.stderr}`)
    const rssMb = Number(r.stderr.trim().split('\n').pop()) / 1024
    const result = JSON.parse(r.stdout) as { individuals: unknown }
    console.log(`${run}: ${N} individuals in ${seconds.toFixed(1)} s (process start included), peak RSS ${rssMb.toFixed(0)} MB, ${JSON.stringify(result.individuals)}`)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
  await admin.end()
}
