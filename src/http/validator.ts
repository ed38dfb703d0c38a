import AjvCompiler from '@fastify/ajv-compiler'
import { hasJsonParams, isFormBody } from './body-parsers.ts'

type Validate = ((data: unknown, ctx?: unknown) => unknown) & { errors?: unknown; schemaEnv?: unknown }
interface RouteSchema { schema: unknown; method: string; url: string; httpPart?: string }
type Compile = (route: RouteSchema) => Validate
type BuildValidator = (externalSchemas: unknown, options: { customOptions?: Record<string, unknown> } & Record<string, unknown>) => Compile

/**
 * Fastify's validator compiler with one change: a JSON body is validated as it is, without type
 * coercion (`["x"]` or `5` where a string is expected is refused, not turned into `"x"` or `"5"`).
 * Query strings, path parameters, headers and form bodies — where every value arrives as text —
 * keep the app's coercion (`coerceTypes: 'array'`). A body is a form's when its parser marked it;
 * query parameters a JSON body was merged into (a Cass GET with a body) are marked JSON.
 */
export function strictJsonValidators(): BuildValidator {
  const pool = (AjvCompiler as unknown as () => BuildValidator)()
  return (externalSchemas, options) => {
    const coercing = pool(externalSchemas, options)
    const strict = pool(externalSchemas, { ...options, customOptions: { ...options.customOptions, coerceTypes: false } })
    return (route) => {
      const part = route.httpPart
      if (part !== 'body' && part !== 'querystring') return coercing(route)
      const form = coercing(route)
      const json = strict(route)
      const isJson = part === 'body' ? (data: unknown) => !isFormBody(data) : hasJsonParams
      const validate: Validate = (data, ctx) => {
        const chosen = isJson(data) ? json : form
        const ok = chosen(data, ctx)
        validate.errors = chosen.errors
        return ok
      }
      // Fastify hands Ajv functions the request as the root's parent, so coercion can reach the root.
      if (form.schemaEnv !== undefined) validate.schemaEnv = form.schemaEnv
      return validate
    }
  }
}
