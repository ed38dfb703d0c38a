// Campaign contacts (Apps API K3, README "Campaigns and contacts (K1–K7)") at volume: one campaign in
// a fresh PostgreSQL database (created and dropped), BENCH_VOICE_DNC (10,000) of the numbers put on
// the company DNC list first, then one CSV file of BENCH_VOICE_CONTACTS (100,000) contacts uploaded
// through `POST /apps/api/v1/outbound_dialer/campaigns/1/contacts/import` (app.inject, in this
// process, with the job workers running here too) and K4 polled until the job is finished. The
// figure is the time from the upload to `finished`; the process's RSS is sampled every 250 ms from
// before the upload to the end, and reported (a sample per second of the run, and min/max), to show
// memory stays flat while the rows stream through the import in batches of 1,000.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node bench/voice.ts
//   BENCH_STORES=postgres BENCH_SCENARIOS=voice DATABASE_URL=… npm run bench
import { loadavg } from 'node:os'
import { withBenchApp } from './in-process.ts'

const N = Number(process.env.BENCH_VOICE_CONTACTS ?? 100_000)
const DNC = Number(process.env.BENCH_VOICE_DNC ?? 10_000)
const GOAL_SECONDS = 60
const base = process.env.DATABASE_URL
if (!base) throw new Error('DATABASE_URL (PostgreSQL) is required')

const numberOf = (g: number) => `+1${2013000000 + g}`
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024)

await withBenchApp('voice', base, async ({ services, store, app, created }) => {
    const tenant = (await services.tenants.findByName('Bench'))!
    await services.ccSetup.load(tenant.id, `
settings: { rate_limit: 100000 }
teams: [{ name: Sales }]
menus: [{ name: Phone, type: ivr, children: [{ name: Outbound, channels: [call], teams: [Sales] }] }]
phone_numbers: [{ number: "+1 628-555-0199" }]
campaigns: [{ name: Bench, caller_id: "+16285550199", queue: "Phone / Outbound", mode: predictive, pacing_ratio: 2 }]
`, 'yaml')
    // Every 10th contact of the first DNC*10 is on the DNC list.
    for (let g = 0; g < DNC; g += 1000) {
      const batch = Array.from({ length: Math.min(1000, DNC - g) }, (_, i) => ({ phone: numberOf((g + i) * 10 + 1), expiresAt: null }))
      await services.dnc.add(tenant, batch, { source: 'bench' })
    }
    const lines = ['name,phone_number,email,external_unique_id']
    for (let g = 1; g <= N; g++) lines.push(`Contact ${g},${numberOf(g)},c${g}@example.org,ext-${g}`)
    const csv = lines.join('\n')
    const boundary = '----sbvoicebench'
    const body = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="contacts.csv"\r\nContent-Type: text/csv\r\n\r\n${csv}\r\n--${boundary}--\r\n`)
    lines.length = 0
    const auth = `Basic ${Buffer.from(`${created.ccai.subdomain}:${created.ccai.token}`).toString('base64')}`

    const samples: Array<{ s: number; rssMb: number; heapMb: number }> = []
    const t0 = Date.now()
    const sample = () => {
      const m = process.memoryUsage()
      samples.push({ s: (Date.now() - t0) / 1000, rssMb: mb(m.rss), heapMb: mb(m.heapUsed) })
    }
    const sampler = setInterval(sample, 250)
    sample()
    const r = await app.inject({ method: 'POST', url: '/apps/api/v1/outbound_dialer/campaigns/1/contacts/import', headers: { authorization: auth, 'content-type': `multipart/form-data; boundary=${boundary}` }, payload: body })
    if (r.statusCode !== 201) throw new Error(`K3 answered ${r.statusCode}: ${r.body}`)
    const jobId = (JSON.parse(r.body) as { job_id: number }).job_id
    let job: { status: string; total_rows: number; imported_rows: number; failed_rows: number }
    const progress: Array<{ s: number; rows: number }> = []
    for (;;) {
      const k4 = await app.inject({ method: 'GET', url: `/apps/api/v1/outbound_dialer/campaigns/1/contacts/jobs/${jobId}`, headers: { authorization: auth } })
      job = JSON.parse(k4.body) as typeof job
      progress.push({ s: (Date.now() - t0) / 1000, rows: job.total_rows })
      if (job.status === 'finished' || job.status === 'failed') break
      await new Promise((res) => setTimeout(res, 500))
    }
    const seconds = (Date.now() - t0) / 1000
    clearInterval(sampler)
    const statuses = await store.db.selectFrom('cc_campaign_contacts').select(['status', (eb) => eb.fn.countAll<string>().as('n')]).where('tenant_id', '=', tenant.id).groupBy('status').execute()
    const bySecond = samples.filter((x, i) => i === 0 || Math.floor(x.s) !== Math.floor(samples[i - 1]!.s))
    const rss = samples.map((x) => x.rssMb)
    const figures = {
      loadAverage: loadavg()[0] ?? 0, contacts: N, dncListed: DNC, seconds, rowsPerSecond: Math.round(N / seconds), job,
      statuses: Object.fromEntries(statuses.map((x) => [x.status, Number(x.n)])), rssMb: { min: Math.min(...rss), max: Math.max(...rss), samples: bySecond.map((x) => [+x.s.toFixed(1), x.rssMb]) },
      heapUsedMb: { min: Math.min(...samples.map((x) => x.heapMb)), max: Math.max(...samples.map((x) => x.heapMb)) },
      fileMb: +(body.length / 1024 / 1024).toFixed(1),
    }
    console.log(`voice: K3 import of ${N} contacts (CSV, ${figures.fileMb} MB, ${DNC} on the DNC list): ${job.status} in ${seconds.toFixed(1)} s (${figures.rowsPerSecond} rows/s); imported ${job.imported_rows}, failed ${job.failed_rows}; statuses ${JSON.stringify(figures.statuses)}`)
    console.log(`voice: RSS through the run (s → MB, one sample per second): ${figures.rssMb.samples.map(([s, m]) => `${s}→${m}`).join(' ')}`)
    console.log(`voice: RSS min ${figures.rssMb.min} MB, max ${figures.rssMb.max} MB; V8 heap used min ${figures.heapUsedMb.min} MB, max ${figures.heapUsedMb.max} MB`)
    console.log(`voice: goal ${N} contacts ≤ ${GOAL_SECONDS} s: ${seconds <= GOAL_SECONDS && job.status === 'finished' && job.imported_rows === N ? 'met' : 'NOT met'}; 1-min load average ${figures.loadAverage.toFixed(1)}`)
    console.log(`\nJSON ${JSON.stringify(figures)}`)
}, { jobs: true })
