import type { Readable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { MAX_DIRECTORY_TEXT, type DirectorySource } from '../../../core/messaging/index.ts'
import { BodyError } from '../../../http/body-parsers.ts'
import { SECURITY } from '../../../http/params.ts'
import { acceptYamlSetupFiles, YAML_TYPES } from '../../../http/setup-file.ts'
import { tenantOf } from '../../../http/tenant.ts'
import type { Services } from '../../../services.ts'
import { Message } from '../schemas.ts'

const Counts = Type.Object({ created: Type.Integer(), updated: Type.Integer(), unchanged: Type.Integer() })
const DirectoryImported = Type.Object({
  data: Type.Object({ organizations: Counts, individuals: Counts, users: Counts, groups: Counts }),
})
const DirectoryInvalid = Type.Object({ message: Type.String(), code: Type.Literal('invalid_directory'), errors: Type.Array(Type.String()) })
const CSV_TYPES = ['text/csv', 'application/csv']

/** `POST /admin/directory`: import the messaging directory (YAML, JSON, or CSV of individuals). */
export async function directoryRoutes(app: FastifyInstance, { services }: { services: Services }) {
  acceptYamlSetupFiles(app)
  // CSV is handed to the import as the request stream: rows are read and written as they arrive.
  app.addContentTypeParser(CSV_TYPES, (_req, payload, done) => done(null, payload))

  app.post('/directory', {
    bodyLimit: MAX_DIRECTORY_TEXT,
    schema: {
      tags: ['directory'], summary: 'Import the tenant’s messaging directory',
      description: 'Body: a directory file, YAML (`application/yaml`) or JSON valid against `/schemas/directory.json`, or CSV (`text/csv`) of '
        + 'individuals only, a header line naming the columns. Clinics, individuals and groups are keyed by external id, users by email: '
        + 'a second import updates in place; the answer counts what was created, updated and unchanged. One transaction: 400 lists every '
        + 'problem as `path: problem` (up to 100) and nothing is written.',
      security: SECURITY.basic, response: { 200: DirectoryImported, 400: DirectoryInvalid, 401: Message, 413: Message, 415: Message },
    },
  }, async (req) => {
    const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
    let source: DirectorySource
    if (CSV_TYPES.includes(type)) source = { format: 'csv', chunks: req.body as Readable }
    else if (YAML_TYPES.includes(type)) source = { format: 'yaml', text: String(req.body ?? '') }
    else if (type === 'application/json') source = { format: 'parsed', value: req.body }
    else throw new BodyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', 'Unsupported Media Type', 415)
    return { data: await services.directory.import(tenantOf(req), source) }
  })
}
