import { Type } from 'typebox'
import { RULE_DAYS, TIME_PATTERN, type CalendarArgs, type Responder, type ResponderInput, type ResponderSortField } from '../../../core/messaging/index.ts'
import { defineResource, type JsonApiContext } from '../../../http/jsonapi/resource.ts'
import { inWindow } from '../../../http/jsonapi/query.ts'
import type { Services } from '../../../services.ts'
import { NullableTimestamp, Timestamp, Uuid } from '../schemas.ts'
import { viewerOf } from '../viewer.ts'

const Obj = Type.Record(Type.String(), Type.Unknown())
const NullableUuid = Type.Union([Uuid, Type.Null()])
const Time = Type.String({ pattern: TIME_PATTERN, description: 'A local time of the calendar\'s time zone, HH:MM:SS (a trailing Z is accepted and means nothing more)' })
const Rule = Type.Object({ day: Type.Enum(RULE_DAYS), 'end-time': Time, 'start-time': Time }, { additionalProperties: false })
const Calendar = Type.Object({
  rules: Type.Array(Rule, { maxItems: 50, description: 'When the responder answers; none: any time between start-at and end-at' }),
  timezone: Type.String({ maxLength: 64, description: 'IANA time zone of the rules' }),
}, { additionalProperties: false })
const CalendarIn = Type.Object({ rules: Type.Optional(Calendar.properties.rules), timezone: Type.Optional(Calendar.properties.timezone) }, { additionalProperties: false })
const DateTime = Type.String({ format: 'date-time', maxLength: 40, description: 'ISO 8601 date-time with an offset' })
/** `{}` is how the vendor's PATCH sample writes an untyped start-at/end-at: read as null (cleared). */
const Clearable = Type.Union([DateTime, Type.Null(), Type.Object({}, { additionalProperties: false })])
const ResponderType = Type.String({ maxLength: 64, description: 'auto-reply (args {"message": …}, placeholders as plugin templates)' })

const Attributes = Type.Object({
  args: Obj,
  'calendar-args': Calendar,
  'created-at': Timestamp,
  'created-by': NullableUuid,
  enabled: Type.Boolean(),
  'end-at': NullableTimestamp,
  'individual-group-id': Uuid,
  'last-modified-at': Timestamp,
  'last-modified-by': NullableUuid,
  name: Type.String(),
  'organization-id': Uuid,
  'start-at': NullableTimestamp,
  type: Type.String(),
})
const Create = Type.Object({
  args: Obj,
  'calendar-args': Type.Optional(CalendarIn),
  'end-at': Type.Optional(Type.Union([DateTime, Type.Null()])),
  'individual-group-id': Uuid,
  name: Type.String({ minLength: 1, maxLength: 255 }),
  'organization-id': Uuid,
  'start-at': Type.Optional(Type.Union([DateTime, Type.Null()])),
  type: ResponderType,
})
const Update = Type.Object({
  args: Obj,
  'calendar-args': CalendarIn,
  'end-at': Clearable,
  'individual-group-id': Uuid,
  name: Type.String({ minLength: 1, maxLength: 255 }),
  'start-at': Clearable,
  type: ResponderType,
})

const actor = ({ tenant, req }: JsonApiContext): string => {
  const v = viewerOf(req)
  return v.kind === 'user' ? v.userId : tenant.id
}
const instant = (v: unknown): Date | null => (typeof v === 'string' ? new Date(v) : null)
const calendar = (c: { rules?: CalendarArgs['rules']; timezone?: string }): Partial<CalendarArgs> => ({
  ...(c.rules !== undefined ? { rules: c.rules } : {}), ...(c.timezone !== undefined ? { timezone: c.timezone } : {}),
})

/** The service's input from the attributes given (absent stays absent; start-at/end-at null clears). */
function input(a: Record<string, unknown>): ResponderInput {
  return {
    ...(a.name !== undefined ? { name: a.name as string } : {}), ...(a.type !== undefined ? { type: a.type as string } : {}),
    ...(a.args !== undefined ? { args: a.args as Record<string, unknown> } : {}),
    ...(a['calendar-args'] !== undefined ? { calendar: calendar(a['calendar-args'] as CalendarArgs) } : {}),
    ...(a['individual-group-id'] !== undefined ? { individualGroupId: a['individual-group-id'] as string } : {}),
    ...(a['start-at'] !== undefined ? { startAt: instant(a['start-at']) } : {}), ...(a['end-at'] !== undefined ? { endAt: instant(a['end-at']) } : {}),
  }
}

/** `messaging-responders` (#73–#78): a care team's auto-replies, by window and weekly calendar. */
export function messagingRespondersResource(services: Services) {
  const responders = services.messagingResponders
  return defineResource({
    type: 'messaging-responders',
    path: '/v1/messaging-responders/',
    tags: ['messaging-responders'],
    attributes: Attributes,
    present: (r: Responder) => ({
      id: r.id,
      attributes: {
        args: r.args, 'calendar-args': { rules: [...r.calendar.rules], timezone: r.calendar.timezone }, 'created-at': r.createdAt.toISOString(), 'created-by': r.createdBy,
        enabled: r.enabled, 'end-at': r.endAt?.toISOString() ?? null, 'individual-group-id': r.individualGroupId, 'last-modified-at': r.lastModifiedAt.toISOString(),
        'last-modified-by': r.lastModifiedBy, name: r.name, 'organization-id': r.organizationId, 'start-at': r.startAt?.toISOString() ?? null, type: r.type,
      },
    }),
    list: {
      summary: 'Returns an organisation\'s responders (a user token: those of the user\'s groups)',
      params: { 'organization-id': { schema: Uuid, required: true } },
      filters: { enabled: Type.Boolean(), 'individual-group-id': Uuid },
      windows: ['end-at', 'start-at'],
      sort: { fields: ['created-at', 'end-at', 'start-at'], default: ['created-at'] },
      run: async ({ tenant, req }, q) => responders.list(tenant, {
        organizationId: q.params['organization-id'] as string, limit: q.limit, offset: q.offset,
        sort: q.sort.map((s) => ({ field: s.field as ResponderSortField, descending: s.descending })),
        ...(q.filters.enabled !== undefined ? { enabled: q.filters.enabled as boolean } : {}),
        ...(q.filters['individual-group-id'] !== undefined ? { individualGroupId: q.filters['individual-group-id'] as string } : {}),
        ...(q.windows['start-at'] ? { startAt: (at: Date | null) => inWindow(at, q.windows['start-at']) } : {}),
        ...(q.windows['end-at'] ? { endAt: (at: Date | null) => inWindow(at, q.windows['end-at']) } : {}),
      }, viewerOf(req)),
    },
    create: {
      summary: 'Creates a responder (enabled) for an individual group',
      attributes: Create,
      run: async (ctx, a) => responders.create(ctx.tenant, {
        ...input(a), organizationId: a['organization-id'], individualGroupId: a['individual-group-id'], name: a.name, type: a.type,
      }, actor(ctx), viewerOf(ctx.req)),
    },
    read: { summary: 'Returns a responder', run: async ({ tenant, req }, id) => responders.get(tenant, id, viewerOf(req)) },
    update: {
      summary: 'Modifies a responder (start-at/end-at null or {} clears them); a change starts a new active window',
      attributes: Update,
      run: async (ctx, id, a) => responders.update(ctx.tenant, id, input(a), actor(ctx), viewerOf(ctx.req)),
    },
    actions: [
      { name: 'disable', method: 'POST', summary: 'Disable a responder', run: async (ctx, id) => ({ resource: await responders.setEnabled(ctx.tenant, id, false, actor(ctx), viewerOf(ctx.req)) }) },
      { name: 'enable', method: 'POST', summary: 'Enable a responder (a new active window begins)', run: async (ctx, id) => ({ resource: await responders.setEnabled(ctx.tenant, id, true, actor(ctx), viewerOf(ctx.req)) }) },
    ],
  })
}
