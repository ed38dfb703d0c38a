import type { FastifyInstance, FastifyRequest } from 'fastify'
import { BodyError } from './body-parsers.ts'
import { MAX_BODY_DEPTH, yamlTooDeep } from './nesting.ts'

/** The media types a YAML setup file may be sent with. */
export const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml']

/**
 * Let the routes of this plugin context take setup files (threads, the contact center) as YAML:
 * the text is kept as written (UTF-8 checked, nesting bounded) and the service parses it.
 */
export function acceptYamlSetupFiles(app: FastifyInstance): void {
  // A setup file is YAML or JSON; the app-wide readings of text/plain and forms (the Cass API's)
  // would turn a YAML file sent as text into "Malformed JSON". Without a parser here: 415.
  app.removeContentTypeParser(['text/plain', 'application/x-www-form-urlencoded'])
  app.addContentTypeParser(YAML_TYPES, { parseAs: 'buffer' }, (_req, body, done) => {
    let text: string
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(body as Buffer)
    } catch {
      return done(new BodyError('invalid_utf8', 'Request body is not valid UTF-8'), undefined)
    }
    // Composing a document of thousands of levels exhausts the stack (or memory): refuse it first.
    if (yamlTooDeep(text)) return done(new BodyError('too_deep', `Request body is nested deeper than ${MAX_BODY_DEPTH} levels`), undefined)
    done(null, text)
  })
}

/**
 * A setup file from a request body: YAML as sent, JSON re-serialised (the file kept is readable).
 * 415 for another media type; `empty` is what the service says of an empty file (thrown by the
 * caller's `onEmpty`).
 */
export function setupFileOf(req: FastifyRequest, onEmpty: () => never): { source: string; format: 'yaml' | 'json' } {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  const isYaml = YAML_TYPES.includes(type)
  if (!isYaml && type !== 'application/json') throw new BodyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', 'Unsupported Media Type', 415)
  if (req.body === undefined || req.body === null) onEmpty()
  return { source: isYaml ? String(req.body) : JSON.stringify(req.body, null, 2), format: isYaml ? 'yaml' : 'json' }
}
