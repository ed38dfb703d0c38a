import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AgentFilter } from '../../../core/contact-center/index.ts'
import { tenantOf } from '../../../http/tenant.ts'
import type { Services } from '../../../services.ts'
import { CcaiError } from '../errors.ts'
import { listParam, rangeParam, toBool, toId, toTime, type Query } from '../params.ts'
import { presentUser } from '../presenters.ts'
import { COMMON_ERRORS, Message, User, UsersQuery } from '../schemas.ts'

const tags = ['users']
/** Most values one filter may carry (U1). */
const MAX_FILTER_VALUES = 1000
const DEFAULT_PER = 100

const LIST_FILTERS = ['id', 'agent_number', 'status_id', 'online', 'wrap_up', 'location'] as const
const RANGE_FILTERS = ['last_login_time', 'status_updated_at'] as const

/**
 * The filter and page of `GET /users` from its query, refused in the documented order (§2.14):
 * page size, more than one filter, a filter with pagination, too many values.
 */
export function usersFilter(query: Query): { filter: AgentFilter; page?: { page: number; per: number } } {
  const pageGiven = query.page !== undefined || query.per !== undefined
  let per = DEFAULT_PER
  if (query.per !== undefined) {
    const n = Number(query.per)
    if (typeof query.per !== 'string' || !/^\s*\d+\s*$/.test(query.per) || n < 1 || n >= 1000) throw new CcaiError(400, 'Invalid page size request')
    per = n
  }
  let page = 1
  if (query.page !== undefined) {
    const n = toId(query.page)
    if (n === undefined) throw new CcaiError(400, 'Invalid page request')
    page = n
  }
  const lists = LIST_FILTERS.flatMap((name) => {
    const values = listParam(query, name)
    return values === undefined ? [] : [{ name, values }]
  })
  const ranges = RANGE_FILTERS.flatMap((name) => {
    const range = rangeParam(query, name)
    return range === undefined ? [] : [{ name, range }]
  })
  if (lists.length + ranges.length > 1) throw new CcaiError(400, 'Only one filter should be configured at a time')
  if (lists.length + ranges.length === 1 && pageGiven) throw new CcaiError(400, 'Cannot paginate filtered results')
  const list = lists[0]
  if (list) {
    if (list.values.length > MAX_FILTER_VALUES) throw new CcaiError(400, 'Ensure you are not filtering more than 1000 values at a time')
    const invalid = () => new CcaiError(400, `${list.name}[] is invalid`)
    const nums = () => list.values.map((v) => toId(v) ?? (() => { throw invalid() })())
    const bools = () => list.values.map((v) => toBool(v) ?? (() => { throw invalid() })())
    switch (list.name) {
      case 'id': return { filter: { kind: 'ids', nums: nums() } }
      case 'status_id': return { filter: { kind: 'status_ids', nums: nums() } }
      case 'agent_number': return { filter: { kind: 'agent_numbers', values: list.values } }
      case 'location': return { filter: { kind: 'locations', values: list.values } }
      case 'online': return { filter: { kind: 'online', values: bools() } }
      case 'wrap_up': return { filter: { kind: 'wrap_up', values: bools() } }
    }
  }
  const range = ranges[0]
  if (range) {
    const bound = (side: 'from' | 'to') => {
      const raw = range.range[side]
      if (raw === undefined) return undefined
      return toTime(raw) ?? (() => { throw new CcaiError(400, `${range.name}[${side}] is invalid`) })()
    }
    const from = bound('from')
    const to = bound('to')
    const kind = range.name === 'last_login_time' ? 'last_login' : 'status_updated'
    return { filter: { kind, ...(from ? { from } : {}), ...(to ? { to } : {}) } }
  }
  return { filter: { kind: 'page', offset: (page - 1) * per, limit: per }, page: { page, per } }
}

/** U1 `GET /users`: the tenant's users (agents), one page or one filter. */
export async function usersRoutes(fastify: FastifyInstance, { services }: { services: Services }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { agents } = services

  app.get('/users', {
    schema: {
      tags, summary: 'List users',
      description: 'Agents, managers and admins. Without parameters the first 100. Either one page (`page`, `per` < 1000) or one filter (no pagination with a filter; at most 1000 values). A paged answer carries `Link` (next page), `Total` and `Per-Page`.',
      querystring: UsersQuery, response: { 200: Type.Array(User), 400: Message, ...COMMON_ERRORS },
    },
  }, async (req, reply) => {
    const tenant = tenantOf(req)
    const { filter, page } = usersFilter(req.query as Query)
    const users = await agents.list(tenant.id, filter)
    if (page) {
      const total = await agents.count(tenant.id)
      reply.header('total', String(total)).header('per-page', String(page.per))
      if (page.page * page.per < total) {
        const url = new URL(req.url, 'http://x')
        url.searchParams.set('page', String(page.page + 1))
        url.searchParams.set('per', String(page.per))
        reply.header('link', `<${req.protocol}://${req.host}${url.pathname}${url.search}>; rel="next"`)
      }
    }
    return users.map(presentUser)
  })
}
