/** What a scheduled notification does when due: send a check-in thread, or re-engage a quiet person. */
export type NotificationType = 'checkin' | 'autoping'
/** `failed`: could not be fired (see the scheduler, migrations/0008). */
export type NotificationStatus = 'pending' | 'fired' | 'cancelled' | 'failed'

/** A check-in or autoping waiting for its time (a `scheduled_notifications` row). */
export interface ScheduledNotification {
  readonly id: string
  readonly tenantId: TenantId
  /** Core person id. */
  readonly personId: string
  readonly type: NotificationType
  readonly threadName: string
  readonly dueAt: Date
  readonly status: NotificationStatus
  readonly conversationId: string | null
  readonly idempotencyKey: string
  readonly createdAt: Date
  readonly firedAt: Date | null
}

/** What `SchedulingService.schedule` records. */
export interface ScheduleInput {
  readonly tenantId: TenantId
  readonly personId: string
  readonly type: NotificationType
  readonly threadName: string
  readonly dueAt: Date
  /** Unique per tenant: scheduling again with the same key records nothing more. */
  readonly idempotencyKey: string
  readonly conversationId?: string | null
}

/** A notification as the Notification API hands it out (and deletes it). */
export interface QueuedNotification {
  readonly id: string
  readonly type: NotificationType
  readonly threadName: string
  readonly dueAt: Date
  /** `dueAt` in microseconds since the epoch: the database keeps microseconds, a Date only milliseconds. */
  readonly dueAtMicros: bigint
  /** `pending`: not due yet (or due and about to fire); `fired`: fired for a web person, waiting to be fetched. */
  readonly status: 'pending' | 'fired'
}

import type { TenantId } from '../../lib/tenant-id.ts'