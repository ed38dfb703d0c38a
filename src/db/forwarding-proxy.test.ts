import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { afterAll, expect, it } from 'vitest'
import { EmbeddedSocketServer } from './embedded-server.ts'
import { ForwardingProxy } from './forwarding-proxy.ts'

// A borrowing process reaches the owner's embedded store through a forwarding port. When the owner
// stops, clients move to the next target: idle ones unnoticed, and a request the stopping owner
// never ran (it waited behind another client's transaction) is sent again, not failed.
const cleanup: Array<() => Promise<unknown>> = []
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => {})
})

async function serve(name: string) {
  const db = await PGlite.create('memory://')
  await db.exec(`CREATE TABLE which (v text); INSERT INTO which VALUES ('${name}')`)
  const server = new EmbeddedSocketServer(db)
  const port = await server.listen(0)
  cleanup.push(async () => {
    await server.stop(0)
    await db.close()
  })
  return { server, port }
}

const url = (port: number) => `postgres://postgres:postgres@127.0.0.1:${port}/postgres`

it('moves an idle client to the next owner unnoticed, and sends again the request the stopping owner never ran', async () => {
  const a = await serve('a')
  const b = await serve('b')
  const proxy = new ForwardingProxy(a.port, async () => b.port)
  const port = await proxy.listen()
  cleanup.push(() => proxy.stop())

  const client = new pg.Client({ connectionString: url(port) })
  client.on('error', () => {})
  await client.connect()
  cleanup.push(() => client.end())
  const which = async () => (await client.query<{ v: string }>('SELECT v FROM which')).rows[0]!.v
  expect(await which()).toBe('a')

  // Another client of the owner holds its one session in a transaction, so our next request waits.
  const holder = new pg.Client({ connectionString: url(a.port) })
  holder.on('error', () => {})
  await holder.connect()
  await holder.query('BEGIN')
  await holder.query('INSERT INTO which VALUES (\'held\')')
  const waiting = which()
  await new Promise((r) => setTimeout(r, 100)) // let the request reach the owner's queue
  await a.server.stop(200) // the transaction never ends: the owner stops after its drain time

  expect(await waiting).toBe('b')
  expect(await which()).toBe('b')
})
