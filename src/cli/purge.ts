import { parseArgs } from 'node:util'
import type { Config } from '../config.ts'
import type { Purge } from '../core/privacy/index.ts'
import { createServices } from '../services.ts'
import { fail, withStore, type CliIo } from './io.ts'

/** The usage lines of `switchboard purge`. */
export const PURGE_USAGE = `  purge show --tenant <name> --request-id <id> [--json]
                                     a purge-data request's audit record: status, counts per kind erased
  purge archive --tenant <name> --request-id <id>
                                     print (JSON) what an archive: true purge moved out: the rows, the kept file keys`

const presentPurge = (p: Purge) => ({
  id: p.id, request_id: p.requestId, reference_id: p.referenceId, entity_type: p.entityType, entity_id: p.entityId, archive: p.archive,
  requested_by: p.requestedBy, status: p.status, counts: p.counts, created_at: p.createdAt.toISOString(), completed_at: p.completedAt?.toISOString() ?? null,
})

/**
 * `switchboard purge show|archive`: the operator's view of purge-data (#86). The archive of an
 * `archive: true` purge is readable here only, never through an API (README, "Purge-data").
 */
export async function purgeCommand(config: Config, args: string[], io: CliIo, usage: string): Promise<void> {
  const [sub, ...rest] = args
  const { values } = parseArgs({ args: rest, options: { tenant: { type: 'string' }, 'request-id': { type: 'string' }, json: { type: 'boolean', default: false } }, strict: true })
  if (sub !== 'show' && sub !== 'archive') fail(`purge: unknown subcommand "${sub ?? ''}"\n\n${usage}`)
  if (!values.tenant) fail(`purge ${sub}: --tenant <name> is required`)
  if (!values['request-id']) fail(`purge ${sub}: --request-id <id> is required`)
  const requestId = values['request-id']
  await withStore(config, io, async (store) => {
    const services = createServices(config, store)
    const tenant = (await services.tenants.findByName(values.tenant!)) ?? (await services.tenants.list()).find((t) => t.cassClient === values.tenant)
    if (!tenant) fail(`purge ${sub}: no tenant named "${values.tenant}"`, 1)
    if (sub === 'show') {
      const purge = await services.privacy.find(tenant, requestId).catch(() => fail(`purge show: no purge with request id "${requestId}" in "${tenant.name}"`, 1))
      const p = presentPurge(purge)
      io.stdout.write(values.json ? JSON.stringify(p) + '\n'
        : `${p.request_id}: ${p.status}${p.archive ? ' (archive)' : ''}, ${p.entity_type} ${p.entity_id}\n${Object.entries(p.counts).map(([k, n]) => `  ${k.padEnd(24)} ${n}`).join('\n')}\n`)
      return
    }
    const archived = await services.privacy.archiveOf(tenant, requestId)
    if (!archived) fail(`purge archive: no archive for request id "${requestId}" in "${tenant.name}" (not an archive: true purge, or not done yet)`, 1)
    io.stdout.write(JSON.stringify({ purge: presentPurge(archived.purge), archive: archived.document }) + '\n')
  })
}
