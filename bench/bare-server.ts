// The bench's baseline: a bare Fastify app answering GET /bare with a small JSON, run in its own
// process exactly as the real server is, so "ratio to bare" compares like with like.
//
// Given BARE_DATABASE_URL it also answers GET /bare-pg/:id with one indexed query (the same person
// row GET /external_person/{uuid} reads, through a `pg` pool of the app's size): the ceiling of
// "one database round trip per request" on this machine, to tell framework + app overhead from
// the cost of talking to the database.
import Fastify from 'fastify'
import pg from 'pg'

const app = Fastify({ logger: false })
app.get('/bare', async () => ({ status: 'ok', service: 'bare' }))

const databaseUrl = process.env.BARE_DATABASE_URL
const pool = databaseUrl ? new pg.Pool({ connectionString: databaseUrl, max: 10 }) : undefined
if (pool) {
  const text = `SELECT i.public_id AS person_id, p.phone, p.external_id, p.first_name, p.last_name, p.protocol, p.timezone
    FROM person_identities i JOIN people p ON p.id = i.person_id
    WHERE i.surface = 'cass' AND i.public_id = $1`
  app.get<{ Params: { id: string } }>('/bare-pg/:id', async (req, reply) => {
    const { rows } = await pool.query({ name: 'bare_person', text, values: [req.params.id] })
    return rows[0] ?? reply.code(404).send({ message: 'not found' })
  })
}

const port = Number(process.env.PORT ?? 0)
await app.listen({ port, host: '127.0.0.1' })
process.stdout.write(`bare server listening on ${port}\n`)

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void app.close().then(() => pool?.end()).then(() => process.exit(0))
  })
}
