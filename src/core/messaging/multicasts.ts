import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import { Type } from 'typebox'
import type { DB } from '../../db/schema.ts'
import type { JobQueue, JobType } from '../../jobs/index.ts'
import { TenantIdSchema, type TenantId } from '../../lib/tenant-id.ts'
import type { DeliveryService, SendMessageInput } from '../delivery/index.ts'
import { AppError, NotFoundError, ValidationError } from '../errors.ts'
import type { PeopleLookups } from '../people/index.ts'
import type { PreparedTemplate, RenderedMessage, TemplatesService } from '../templates/index.ts'
import type { Tenant } from '../tenants/index.ts'
import type { ChannelsService } from './channels.ts'
import type { DirectoryService, DirectoryViewer } from './directory.service.ts'
import type { Organizations } from './organizations.ts'
import { UUID } from '../../lib/uuid.ts'

type MulticastRow = Selectable<DB['msg_multicasts']>
type Where = { pointer?: string; parameter?: string }

/** Payload of `messaging.multicast`: which multicast of which tenant to fan out. */
export const MulticastPayload = Type.Object({ tenantId: TenantIdSchema, multicastId: Type.String({ minLength: 36, maxLength: 36 }) }, { additionalProperties: false })
/** The fan-out job of a multicast (handler in src/jobs/multicast.job.ts); its key is the multicast id, the `task-id`. */
export const MULTICAST_JOB = { name: 'messaging.multicast', payload: MulticastPayload } as const satisfies JobType

/**
 * What a multicast pushes through: PushService.sendToIndividual (core/push), named here as a port
 * because push already depends on messaging (its organisations and viewers).
 */
export interface MulticastPusher {
  sendToIndividual(tenant: Pick<Tenant, 'id'>, individualId: string, n: { title: string; body: string; category?: string | undefined; data?: Readonly<Record<string, unknown>> | undefined }, opts?: { record?: boolean }): Promise<unknown>
}

/**
 * Where a multicast records what each recipient was sent as their user notification (#132):
 * UserNotificationsService.record (core/push), in the batch's transaction.
 */
export interface MulticastNotifications {
  record(db: Transaction<DB>, tenantId: TenantId, records: ReadonlyArray<{
    personId: string; organizationId: string; multicastId: string; category: string; active: boolean
    data: { apn: Record<string, unknown>; fcm: Record<string, unknown>; sms: { bodies: readonly string[] }; web: Record<string, unknown> }
  }>): Promise<void>
}

/** Which operation made a multicast: #80, #26, #130, #138. */
export type MulticastKind = 'multicast' | 'individual' | 'user-multicast' | 'user'

/** `filter-type` values (README "Multicasts"). */
export const FILTER_TYPES = ['all-participants', 'individual-group', 'channel-participants', 'individuals'] as const
export type FilterType = (typeof FILTER_TYPES)[number]

/** The channels a multicast sends on (a template part each). */
export type MulticastChannel = 'push' | 'sms' | 'email' | 'in-app'

/** A multicast (#79–#81) and how far its fan-out has come. */
export interface Multicast {
  readonly id: string
  readonly organizationId: string
  readonly kind: MulticastKind
  readonly createdBy: string
  readonly templateId: string
  readonly data: Record<string, unknown>
  readonly filterType: string
  readonly filterValue: Record<string, unknown>
  readonly individualGroupId: string | null
  readonly individualId: string | null
  readonly individualIds: readonly string[]
  /** `sending` while the job runs, `sent` once every recipient is sent or skipped. */
  readonly status: 'sending' | 'sent'
  readonly createdAt: Date
  readonly finishedAt: Date | null
  /** The user who sent it (null for the organisation key). */
  readonly creator: { readonly firstName: string | null; readonly lastName: string | null; readonly username: string | null } | null
  readonly progress: { readonly recipients: number; readonly sent: number; readonly skipped: number; readonly pending: number }
}

/** What each individual was sent (#129): one recipient of a multicast, once sent. */
export interface UserMulticast {
  readonly id: string
  readonly multicastId: string
  readonly organizationId: string
  readonly individualId: string
  readonly templateId: string
  readonly templateData: Record<string, unknown>
  readonly channels: readonly string[]
  readonly language: string | null
  readonly inApp: { readonly title: string; readonly body: string } | null
  readonly createdAt: Date
}

/** A new multicast: template, data and audience. */
export interface CreateMulticast {
  readonly kind: MulticastKind
  readonly createdBy: string
  readonly organizationId: string
  readonly templateId: string
  readonly data: Record<string, unknown>
  readonly filterType: string
  readonly filterValue: Record<string, unknown>
  /** Where the request spelled each member (JSON:API `/data/attributes/…` or plain `/…`). */
  readonly pointers: { readonly templateId: string; readonly data: string; readonly organizationId: string; readonly filterType: string; readonly filterValue: string }
  /** Members of a plain body naming the audience (#130: `/individual-ids`), instead of `filter-value` ones. */
  readonly audiencePointers?: { readonly individualIds: string; readonly individualGroupIds: string }
  /** The one individual of #26/#138 (recorded as `individual-id`). */
  readonly individualId?: string
}

/** Test and tuning hooks of a run (the job definition passes them). */
export interface MulticastRunHooks {
  /** Called after each batch committed with how many recipients this run has done. */
  readonly afterBatch?: (done: number) => void | Promise<void>
  /** Recipients per batch, one transaction each (default 500). */
  readonly batchSize?: number
  /** Batches in flight at once (default 2). */
  readonly concurrency?: number
  /** Pushes in flight at once (default 16). */
  readonly pushConcurrency?: number
}

const BATCH = 500
const MAX_LISTED = 10_000

/**
 * Templated multicasts: a template rendered per recipient and sent on each channel the template
 * has and the recipient can be reached on — push (an active device), SMS (a phone), e-mail (an
 * address) — among those their user's `notifications` preference allows (#137; an individual who is
 * no user takes every channel); the in-app part is always stored, as the recipient's
 * `user-multicasts` entry. SMS and e-mail go through the delivery pipeline (its suppression check
 * included), pushes through PushService (which honours the suppression list itself).
 *
 * Creating a multicast fixes its audience as a worklist and enqueues `messaging.multicast` in the
 * same transaction. The job renders and sends a batch of recipients per transaction (the outbox rows
 * keyed by multicast, person and channel), marking them sent in it, so a run that dies, is retried
 * or runs twice at once never sends an SMS or e-mail twice nor skips anyone. A push goes out after
 * its batch committed (marked pending in it); a resumed run pushes the pending ones unless the
 * devices' log already shows this multicast's push.
 */
export class MulticastsService {
  readonly #db: Kysely<DB>
  readonly #jobs: JobQueue
  readonly #templates: TemplatesService
  readonly #delivery: DeliveryService
  readonly #push: MulticastPusher
  readonly #people: PeopleLookups
  readonly #channels: ChannelsService
  readonly #directory: DirectoryService
  readonly #organizations: Organizations
  readonly #notifications: MulticastNotifications | undefined

  constructor(deps: {
    db: Kysely<DB>; jobs: JobQueue; templates: TemplatesService; delivery: DeliveryService; push: MulticastPusher; people: PeopleLookups
    channels: ChannelsService; directory: DirectoryService; organizations: Organizations; notifications?: MulticastNotifications
  }) {
    this.#notifications = deps.notifications
    this.#db = deps.db
    this.#jobs = deps.jobs
    this.#templates = deps.templates
    this.#delivery = deps.delivery
    this.#push = deps.push
    this.#people = deps.people
    this.#channels = deps.channels
    this.#directory = deps.directory
    this.#organizations = deps.organizations
  }

  /**
   * A new multicast, its fan-out job enqueued. Checks, in order: the organisation (404), the
   * template (404 `template_not_found`), the data against its data-schema and the default parts
   * rendering (400 `invalid_template_data` / `template_render_failed`), the audience (400
   * `invalid_audience`, 404 for an unknown group, channel or individual). Nothing is written when
   * it throws.
   */
  async create(tenant: Tenant, input: CreateMulticast, viewer: DirectoryViewer): Promise<Multicast> {
    const p = input.pointers
    this.#organizations.get(tenant, input.organizationId, { pointer: p.organizationId })
    const template = await this.#templates.prepare(undefined, tenant, input.templateId).catch((err: unknown) => {
      if (err instanceof AppError && err.code === 'template_not_found') throw new NotFoundError('template_not_found', `No template ${JSON.stringify(input.templateId)}`, { templateId: input.templateId, pointer: p.templateId })
      throw err
    })
    checkData(template, input.data, p.data)
    const audience = await this.#audience(tenant, input, viewer)
    const id = await this.#db.transaction().execute(async (trx) => {
      const row = await trx.insertInto('msg_multicasts').values({
        tenant_id: tenant.id, organization_id: input.organizationId.toLowerCase(), kind: input.kind, created_by: input.createdBy.toLowerCase(),
        template_id: input.templateId, data: JSON.stringify(input.data), filter_type: input.filterType, filter_value: JSON.stringify(input.filterValue),
        individual_group_id: audience.groupId, individual_id: input.individualId?.toLowerCase() ?? null, individual_ids: JSON.stringify(audience.listedIds),
      }).returning('id').executeTakeFirstOrThrow()
      const n = await audience.insert(trx, row.id)
      if (n === 0) throw new ValidationError('recipients_required', 'the audience has no individuals', { pointer: p.filterValue })
      await this.#jobs.enqueue(trx, MULTICAST_JOB, { tenantId: tenant.id, multicastId: row.id }, { key: `multicast:${row.id}`, tenantId: tenant.id })
      return row.id
    })
    this.#jobs.wake(MULTICAST_JOB)
    return this.get(tenant, id)
  }

  /** #81: one multicast with its progress; NotFoundError `resource_not_found` at `where`. */
  async get(tenant: Tenant, id: string, where: Where = {}): Promise<Multicast> {
    const row = UUID.test(id) ? await this.#db.selectFrom('msg_multicasts').selectAll().where('tenant_id', '=', tenant.id).where('id', '=', id.toLowerCase()).executeTakeFirst() : undefined
    if (!row) throw new NotFoundError('resource_not_found', `No multicasts with id ${id}`, { type: 'multicasts', id, ...where })
    return (await this.#present(tenant.id, [row]))[0]!
  }

  /** #79: the tenant's multicasts, newest first. */
  async list(tenant: Tenant, q: { createdAt?: ReadonlyArray<{ op: '>' | '<' | '>=' | '<='; at: Date }>; individualGroupId?: string; templateId?: string; limit: number; offset: number }): Promise<{ items: Multicast[]; total: number }> {
    let query = this.#db.selectFrom('msg_multicasts').where('tenant_id', '=', tenant.id)
    if (q.individualGroupId !== undefined) query = query.where('individual_group_id', '=', q.individualGroupId.toLowerCase())
    if (q.templateId !== undefined) query = query.where('template_id', '=', q.templateId)
    for (const w of q.createdAt ?? []) query = query.where('created_at', w.op, w.at)
    const [rows, total] = await Promise.all([
      query.selectAll().orderBy('created_at', 'desc').orderBy('id').limit(q.limit).offset(q.offset).execute(),
      query.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    ])
    return { items: await this.#present(tenant.id, rows), total: Number(total.n) }
  }

  /** The members of a multicast's group, as the `individual-group` attribute shows them. */
  async recipientIds(tenant: Tenant, id: string): Promise<string[]> {
    const rows = await this.#db.selectFrom('msg_multicast_recipients as r')
      .innerJoin('person_identities as i', (j) => j.onRef('i.person_id', '=', 'r.person_id').on('i.surface', '=', 'cass'))
      .select('i.public_id').where('r.tenant_id', '=', tenant.id).where('r.multicast_id', '=', id).orderBy('r.position').execute()
    return rows.map((r) => r.public_id)
  }

  /** #129: what the individual was sent, newest first. NotFoundError for an individual not the tenant's (or not the viewer's). */
  async sentTo(tenant: Tenant, individualId: string, page: { limit: number; offset: number }, viewer: DirectoryViewer): Promise<{ items: UserMulticast[]; total: number }> {
    await this.#directory.individual(tenant, individualId, viewer).catch((err: unknown) => {
      throw err instanceof NotFoundError ? new NotFoundError('resource_not_found', `No individuals with id ${individualId}`, { type: 'individuals', id: individualId, parameter: 'individual-id' }) : err
    })
    const person = (await this.#people.findManyByCassIds(this.#db, tenant.id, [individualId])).get(individualId.toLowerCase())!
    const base = this.#db.selectFrom('msg_multicast_recipients as r')
      .innerJoin('msg_multicasts as m', (j) => j.onRef('m.tenant_id', '=', 'r.tenant_id').onRef('m.id', '=', 'r.multicast_id'))
      .where('r.tenant_id', '=', tenant.id).where('r.person_id', '=', person.id).where('r.state', '=', 'sent')
    const [rows, total] = await Promise.all([
      base.select(['r.id', 'r.multicast_id', 'r.channels', 'r.language', 'r.in_app', 'r.done_at', 'm.organization_id', 'm.template_id', 'm.data'])
        .orderBy('r.done_at', 'desc').orderBy('r.id').limit(page.limit).offset(page.offset).execute(),
      base.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    ])
    return {
      items: rows.map((r) => ({
        id: r.id, multicastId: r.multicast_id, organizationId: r.organization_id, individualId: person.cassId, templateId: r.template_id,
        templateData: r.data, channels: r.channels, language: r.language, inApp: r.in_app, createdAt: r.done_at!,
      })),
      total: Number(total.n),
    }
  }

  /**
   * The fan-out (the job's handler): first the pushes a previous run left pending, then every
   * pending recipient, in order, a batch per transaction; marks the multicast sent when none is left.
   */
  async run(tenant: Tenant, id: string, hooks: MulticastRunHooks = {}): Promise<void> {
    const m = await this.#db.selectFrom('msg_multicasts').selectAll().where('tenant_id', '=', tenant.id).where('id', '=', id).executeTakeFirst()
    if (!m || m.status !== 'sending') return
    const template = await this.#templates.prepare(undefined, tenant, m.template_id).catch((err: unknown) => {
      if (err instanceof AppError && err.code === 'template_not_found') return undefined
      throw err
    })
    await this.#resumePushes(tenant, m, hooks)
    const size = hooks.batchSize ?? BATCH
    let done = 0
    let failure: { err: unknown } | undefined
    const loop = async () => {
      let after = -1
      while (!failure) {
        try {
          const batch = await this.#db.transaction().execute((trx) => this.#batch(trx, tenant, m, template, after, size))
          if (!batch) return
          after = batch.after
          if (batch.queued) this.#delivery.wake()
          await this.#pushAll(tenant, m.id, batch.pushes, hooks.pushConcurrency ?? 16)
          done += batch.count
          await hooks.afterBatch?.(done)
        } catch (err) {
          failure ??= { err }
        }
      }
    }
    await Promise.all(Array.from({ length: Math.max(1, hooks.concurrency ?? 2) }, loop))
    if (failure) throw failure.err
    // Recipients whose person is gone (no identity) cannot be reached: skipped.
    await this.#db.updateTable('msg_multicast_recipients').set({ state: 'skipped', reason: 'unknown_individual', done_at: sql`now()` })
      .where('tenant_id', '=', tenant.id).where('multicast_id', '=', id).where('state', '=', 'pending')
      .where((eb) => eb.not(eb.exists(eb.selectFrom('person_identities as i').select('i.person_id').whereRef('i.person_id', '=', 'msg_multicast_recipients.person_id').where('i.surface', '=', 'cass'))))
      .execute()
    await this.#db.updateTable('msg_multicasts').set({ status: 'sent', finished_at: sql`now()` })
      .where('tenant_id', '=', tenant.id).where('id', '=', id).where('status', '=', 'sending')
      .where((eb) => eb.not(eb.exists(eb.selectFrom('msg_multicast_recipients').select('person_id')
        .where('tenant_id', '=', tenant.id).where('multicast_id', '=', id).where((w) => w.or([w('state', '=', 'pending'), w('push_pending', '=', true)])))))
      .execute()
  }

  /**
   * One batch in `trx`: the next pending recipients after `after` that no other run holds, locked;
   * each rendered in their language and sent on their channels (SMS/e-mail outbox rows keyed by
   * multicast, person and channel), their in-app record and pending push stored, marked sent (or
   * skipped, with why). Null when none is left.
   */
  async #batch(trx: Transaction<DB>, tenant: Tenant, m: MulticastRow, template: PreparedTemplate | undefined, after: number, size: number): Promise<{ after: number; count: number; queued: boolean; pushes: Array<{ personId: string; cassId: string; push: NonNullable<RenderedMessage['push']> }> } | null> {
    const batch = await trx.selectFrom('msg_multicast_recipients as r')
      .innerJoin('person_identities as i', (j) => j.onRef('i.person_id', '=', 'r.person_id').on('i.surface', '=', 'cass'))
      .leftJoin('msg_individuals as d', (j) => j.onRef('d.tenant_id', '=', 'r.tenant_id').onRef('d.person_id', '=', 'r.person_id'))
      .select(['r.person_id', 'r.position', 'i.public_id', 'd.preferred_name'])
      .select((eb) => [
        eb.exists(eb.selectFrom('msg_user_devices as v').select('v.id').whereRef('v.tenant_id', '=', 'r.tenant_id').whereRef('v.person_id', '=', 'r.person_id')
          .where('v.active', '=', true).where('v.allow_notification', '=', true)).as('has_device'),
        eb.selectFrom('msg_users as u').select('u.notifications').whereRef('u.tenant_id', '=', 'r.tenant_id').whereRef('u.person_id', '=', 'r.person_id')
          .orderBy('u.created_at').limit(1).as('notifications'),
        eb.selectFrom('msg_users as u').select('u.email').whereRef('u.tenant_id', '=', 'r.tenant_id').whereRef('u.person_id', '=', 'r.person_id')
          .orderBy('u.created_at').limit(1).as('user_email'),
      ])
      .where('r.tenant_id', '=', tenant.id).where('r.multicast_id', '=', m.id).where('r.state', '=', 'pending').where('r.position', '>', after)
      .orderBy('r.position').limit(size).forUpdate('r').skipLocked().execute()
    if (batch.length === 0) return null
    const personIds = batch.map((r) => r.person_id)
    const persons = await this.#people.findMany(trx, tenant.id, personIds)
    const emails = await this.#people.emailsOf(trx, tenant.id, personIds)
    const sends: SendMessageInput[] = []
    const sent: Array<{ personId: string; channels: string[]; language: string; inApp: string | null; push: string | null }> = []
    const notes: Parameters<MulticastNotifications['record']>[2][number][] = []
    const skipped: Array<{ personId: string; reason: string }> = []
    const pushes: Array<{ personId: string; cassId: string; push: NonNullable<RenderedMessage['push']> }> = []
    for (const r of batch) {
      const person = persons.get(r.person_id)
      if (!person) continue
      if (!template) {
        skipped.push({ personId: r.person_id, reason: `template_not_found: ${m.template_id}` })
        continue
      }
      const full = [person.firstName, person.lastName].filter((s) => s !== null && s.trim() !== '').join(' ')
      let rendered: RenderedMessage
      try {
        rendered = await renderPatiently(() => template.render(m.data, { name: r.preferred_name ?? (full === '' ? null : full), language: person.languageType }))
      } catch (err) {
        if (!(err instanceof AppError)) throw err
        skipped.push({ personId: r.person_id, reason: `${err.code}: ${err.message}`.slice(0, 1000) })
        continue
      }
      // The user's preference (#137) when the individual is a user; every channel otherwise.
      const allowed = (c: string) => r.notifications === null || r.notifications === undefined || (r.notifications as string[]).includes(c)
      const email = emails.get(r.person_id) ?? r.user_email ?? null
      const channels: MulticastChannel[] = []
      const key = (c: string) => `multicast:${m.id}:${r.person_id}:${c}`
      if (rendered.sms !== undefined && rendered.sms.trim() !== '' && person.phone && allowed('sms')) {
        sends.push({ channel: 'sms', to: person.phone, body: rendered.sms, personId: r.person_id, idempotencyKey: key('sms'), data: { 'multicast-id': m.id }, promotional: true })
        channels.push('sms')
      }
      if (rendered.email && email && allowed('email')) {
        const body = rendered.email.text ?? rendered.email.html ?? ''
        sends.push({
          channel: 'email', to: email, subject: rendered.email.subject, body: body === '' ? rendered.email.subject : body, personId: r.person_id, idempotencyKey: key('email'),
          data: { 'multicast-id': m.id, ...(rendered.email.html !== undefined ? { html: rendered.email.html } : {}) },
        })
        channels.push('email')
      }
      if (rendered.push && r.has_device && allowed('push')) {
        pushes.push({ personId: r.person_id, cassId: r.public_id, push: rendered.push })
        channels.push('push')
      }
      if (rendered.inApp) channels.push('in-app')
      // The recipient's user notification (#132): what went out on each channel.
      const pushed = channels.includes('push') && rendered.push
        ? { title: rendered.push.title, body: rendered.push.body, category: rendered.push.category ?? '', data: { 'multicast-id': m.id } }
        : {}
      notes.push({
        personId: r.person_id, organizationId: m.organization_id, multicastId: m.id, category: rendered.push?.category ?? '', active: channels.length > 0,
        data: { apn: pushed, fcm: pushed, sms: { bodies: channels.includes('sms') && rendered.sms !== undefined ? [rendered.sms] : [] }, web: pushed },
      })
      sent.push({
        personId: r.person_id, channels, language: rendered.language, inApp: rendered.inApp ? JSON.stringify(rendered.inApp) : null,
        push: channels.includes('push') ? JSON.stringify(rendered.push) : null,
      })
    }
    const answers = sends.length > 0 ? await this.#delivery.sendMany(tenant, sends, { trx, peopleChecked: true, batched: true }) : []
    if (sent.length > 0) {
      await sql`UPDATE msg_multicast_recipients r SET state = 'sent', channels = v.channels::jsonb, language = v.language, in_app = v.in_app::jsonb,
          push = v.push::jsonb, push_pending = v.push IS NOT NULL, done_at = now()
        FROM unnest(${sent.map((s) => s.personId)}::uuid[], ${sent.map((s) => JSON.stringify(s.channels))}::text[], ${sent.map((s) => s.language)}::text[],
          ${sent.map((s) => s.inApp)}::text[], ${sent.map((s) => s.push)}::text[]) AS v(person_id, channels, language, in_app, push)
        WHERE r.tenant_id = ${tenant.id} AND r.multicast_id = ${m.id} AND r.person_id = v.person_id AND r.state = 'pending'`.execute(trx)
    }
    if (this.#notifications) await this.#notifications.record(trx, tenant.id, notes)
    for (const s of skipped) {
      await trx.updateTable('msg_multicast_recipients').set({ state: 'skipped', reason: s.reason, done_at: sql`now()` })
        .where('tenant_id', '=', tenant.id).where('multicast_id', '=', m.id).where('person_id', '=', s.personId).where('state', '=', 'pending').execute()
    }
    return { after: batch.at(-1)!.position, count: batch.length, queued: answers.some((a) => a.created && a.message.status !== 'suppressed'), pushes }
  }

  /** Push to each recipient (a few at a time), then clear their pending marks. */
  async #pushAll(tenant: Tenant, multicastId: string, pushes: ReadonlyArray<{ personId: string; cassId: string; push: NonNullable<RenderedMessage['push']> }>, concurrency: number): Promise<void> {
    if (pushes.length === 0) return
    let next = 0
    const worker = async () => {
      while (next < pushes.length) {
        const p = pushes[next++]!
        await this.#push.sendToIndividual(tenant, p.cassId, { title: p.push.title, body: p.push.body, category: p.push.category, data: { 'multicast-id': multicastId } }, { record: false })
          .catch((err: unknown) => {
            if (!(err instanceof NotFoundError)) throw err
          })
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, pushes.length) }, worker))
    await this.#db.updateTable('msg_multicast_recipients').set({ push_pending: false })
      .where('tenant_id', '=', tenant.id).where('multicast_id', '=', multicastId).where('person_id', 'in', pushes.map((p) => p.personId)).execute()
  }

  /**
   * Pushes a previous run left pending (it died between a batch's commit and its pushes): sent now,
   * except to recipients whose devices' log already shows this multicast's push.
   */
  async #resumePushes(tenant: Tenant, m: MulticastRow, hooks: MulticastRunHooks): Promise<void> {
    for (;;) {
      const rows = await this.#db.selectFrom('msg_multicast_recipients as r')
        .innerJoin('person_identities as i', (j) => j.onRef('i.person_id', '=', 'r.person_id').on('i.surface', '=', 'cass'))
        .select(['r.person_id', 'i.public_id', 'r.push'])
        .select((eb) => eb.exists(eb.selectFrom('msg_user_device_logs as l').innerJoin('msg_user_devices as v', (j) => j.onRef('v.tenant_id', '=', 'l.tenant_id').onRef('v.id', '=', 'l.device_id'))
          .select('l.id').whereRef('v.person_id', '=', 'r.person_id').where('l.tenant_id', '=', tenant.id).where(sql<boolean>`l.data->>'multicast-id' = ${m.id}`)).as('logged'))
        .where('r.tenant_id', '=', tenant.id).where('r.multicast_id', '=', m.id).where('r.push_pending', '=', true).orderBy('r.position').limit(hooks.batchSize ?? BATCH).execute()
      if (rows.length === 0) return
      const logged = rows.filter((r) => r.logged).map((r) => r.person_id)
      if (logged.length > 0) {
        await this.#db.updateTable('msg_multicast_recipients').set({ push_pending: false })
          .where('tenant_id', '=', tenant.id).where('multicast_id', '=', m.id).where('person_id', 'in', logged).execute()
      }
      await this.#pushAll(tenant, m.id, rows.filter((r) => !r.logged && r.push !== null).map((r) => ({ personId: r.person_id, cassId: r.public_id, push: r.push! })), hooks.pushConcurrency ?? 16)
      const stale = rows.filter((r) => !r.logged && r.push === null).map((r) => r.person_id)
      if (stale.length > 0) {
        await this.#db.updateTable('msg_multicast_recipients').set({ push_pending: false })
          .where('tenant_id', '=', tenant.id).where('multicast_id', '=', m.id).where('person_id', 'in', stale).execute()
      }
    }
  }

  /**
   * The audience of a new multicast, checked: what it records (`individual-group-id`, the listed
   * individuals) and how to write its worklist in the creating transaction.
   */
  async #audience(tenant: Tenant, input: CreateMulticast, viewer: DirectoryViewer): Promise<{ groupId: string | null; listedIds: string[]; insert: (trx: Transaction<DB>, id: string) => Promise<number> }> {
    const p = input.pointers
    const v = input.filterValue
    const t = tenant.id
    const bad = (detail: string, pointer = p.filterValue) => new ValidationError('invalid_audience', detail, { pointer })
    const insertSelect = (select: ReturnType<typeof sql>) => async (trx: Transaction<DB>, id: string) => {
      const r = await sql`INSERT INTO msg_multicast_recipients (tenant_id, multicast_id, person_id, position)
        SELECT ${t}, ${id}, person_id, (row_number() OVER (ORDER BY person_id))::int - 1 FROM (${select}) AS a(person_id)`.execute(trx)
      return Number(r.numAffectedRows ?? 0)
    }
    switch (input.filterType as FilterType) {
      case 'all-participants':
        if (Object.keys(v).length > 0) throw bad('filter-value must be {} for all-participants')
        return { groupId: null, listedIds: [], insert: insertSelect(sql`SELECT DISTINCT person_id FROM person_identities WHERE tenant_id = ${t} AND surface = 'cass'`) }
      case 'individual-group': {
        const gid = v['individual-group-id']
        if (typeof gid !== 'string' || Object.keys(v).length !== 1) throw bad('filter-value must be {"individual-group-id": <uuid>} for individual-group')
        const groupId = await this.#group(tenant, gid, viewer, `${p.filterValue}/individual-group-id`)
        return { groupId, listedIds: [], insert: insertSelect(sql`SELECT DISTINCT person_id FROM msg_group_individuals WHERE tenant_id = ${t} AND group_id = ${groupId}`) }
      }
      case 'channel-participants': {
        const cid = v['channel-id']
        if (typeof cid !== 'string' || Object.keys(v).length !== 1) throw bad('filter-value must be {"channel-id": <uuid>} for channel-participants')
        const channel = UUID.test(cid) ? await this.#db.selectFrom('msg_channels').select('id').where('tenant_id', '=', t).where('id', '=', cid.toLowerCase()).executeTakeFirst() : undefined
        if (!channel) throw new NotFoundError('resource_not_found', `No messaging-channels with id ${cid}`, { type: 'messaging-channels', id: cid, pointer: `${p.filterValue}/channel-id` })
        return { groupId: null, listedIds: [], insert: insertSelect(sql`SELECT DISTINCT individual_id FROM msg_channel_subscribers WHERE tenant_id = ${t} AND channel_id = ${channel.id}`) }
      }
      case 'individuals': {
        const ap = input.audiencePointers ?? { individualIds: `${p.filterValue}/individual-ids`, individualGroupIds: `${p.filterValue}/individual-group-ids` }
        const ids = v['individual-ids'] ?? []
        const groups = v['individual-group-ids'] ?? []
        const extra = Object.keys(v).filter((k) => k !== 'individual-ids' && k !== 'individual-group-ids')
        if (extra.length > 0) throw bad(`filter-value of individuals takes individual-ids and individual-group-ids, not ${extra.join(', ')}`)
        if (!isUuidList(ids)) throw bad(`individual-ids must be an array of at most ${MAX_LISTED} uuids`, ap.individualIds)
        if (!isUuidList(groups) || groups.length > 100) throw bad('individual-group-ids must be an array of at most 100 uuids', ap.individualGroupIds)
        if (ids.length === 0 && groups.length === 0) throw new ValidationError('recipients_required', 'a multicast to individuals needs individual-ids or individual-group-ids', { pointer: ap.individualIds })
        const listed = [...new Set(ids.map((x) => x.toLowerCase()))]
        const people = await this.#channels.individuals(this.#db, t, listed, { pointer: ap.individualIds })
        const groupIds: string[] = []
        for (const [i, g] of groups.entries()) groupIds.push(await this.#group(tenant, g, viewer, `${ap.individualGroupIds}/${i}`))
        const personIds = people.map((x) => x.id)
        return {
          groupId: null, listedIds: listed,
          insert: insertSelect(groupIds.length === 0
            ? sql`SELECT DISTINCT unnest(${personIds}::uuid[])`
            : sql`SELECT unnest(${personIds}::uuid[]) UNION SELECT person_id FROM msg_group_individuals WHERE tenant_id = ${t} AND group_id = ANY(${groupIds}::uuid[])`),
        }
      }
      default:
        throw bad(`filter-type must be one of ${FILTER_TYPES.join(', ')}`, p.filterType)
    }
  }

  /** The group's id when it is the tenant's (and the viewer's); NotFoundError `resource_not_found` at `where`. */
  async checkGroup(tenant: Tenant, id: string, viewer: DirectoryViewer, where: Where): Promise<string> {
    const g = await this.#directory.group(tenant, id, viewer).catch((err: unknown) => {
      throw err instanceof NotFoundError ? new NotFoundError('resource_not_found', `No individual-groups with id ${id}`, { type: 'individual-groups', id, ...where }) : err
    })
    return g.id
  }

  #group(tenant: Tenant, id: string, viewer: DirectoryViewer, pointer: string): Promise<string> {
    return this.checkGroup(tenant, id, viewer, { pointer })
  }

  async #present(tenantId: TenantId, rows: readonly MulticastRow[]): Promise<Multicast[]> {
    if (rows.length === 0) return []
    const counts = await this.#db.selectFrom('msg_multicast_recipients').select(['multicast_id', 'state', sql<string>`count(*)`.as('n')])
      .where('tenant_id', '=', tenantId).where('multicast_id', 'in', rows.map((r) => r.id)).groupBy(['multicast_id', 'state']).execute()
    const count = (id: string, state: string) => Number(counts.find((c) => c.multicast_id === id && c.state === state)?.n ?? 0)
    const users = await this.#db.selectFrom('msg_users').select(['id', 'first_name', 'last_name', 'username'])
      .where('tenant_id', '=', tenantId).where('id', 'in', [...new Set(rows.map((r) => r.created_by))]).execute()
    const creator = (id: string) => {
      const u = users.find((x) => x.id === id)
      return u ? { firstName: u.first_name, lastName: u.last_name, username: u.username } : null
    }
    return rows.map((r) => ({
      id: r.id, organizationId: r.organization_id, kind: r.kind, createdBy: r.created_by, templateId: r.template_id, data: r.data,
      filterType: r.filter_type, filterValue: r.filter_value, individualGroupId: r.individual_group_id, individualId: r.individual_id,
      individualIds: r.individual_ids, status: r.status, createdAt: r.created_at, finishedAt: r.finished_at, creator: creator(r.created_by),
      progress: {
        recipients: count(r.id, 'pending') + count(r.id, 'sent') + count(r.id, 'skipped'),
        sent: count(r.id, 'sent'), skipped: count(r.id, 'skipped'), pending: count(r.id, 'pending'),
      },
    }))
  }
}

/** The data checked against the template's data-schema, and its default parts rendered once (an anonymous recipient). */
function checkData(template: PreparedTemplate, data: Record<string, unknown>, pointer: string): void {
  try {
    template.render(data, { name: null, language: null })
  } catch (err) {
    if (err instanceof AppError && (err.code === 'invalid_template_data' || err.code === 'template_render_failed')) {
      const d = err.details as { templateId: string; errors: string[] }
      throw new ValidationError(err.code, err.message, { templateId: d.templateId, errors: d.errors, pointer })
    }
    throw err
  }
}

function isUuidList(x: unknown): x is string[] {
  return Array.isArray(x) && x.length <= MAX_LISTED && x.every((i) => typeof i === 'string' && UUID.test(i))
}

/**
 * Liquid's render limit is wall-clock time, so a template that renders in a millisecond can trip it
 * on a starved host (the process paused mid-render). Such a failure is tried again, twice, after the
 * event loop had a turn, before the recipient is skipped for it; a template that is really too slow
 * fails every time. Every other error is thrown at once.
 */
export async function renderPatiently<T>(render: () => T): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return render()
    } catch (err) {
      if (attempt >= 3 || !(err instanceof AppError) || !/render limit exceeded/.test(err.message)) throw err
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
}
