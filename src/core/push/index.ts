// Push: app credentials (#6–#9), user devices and their logs (#118–#120), badge counts (#18–#21), and the push to an individual's devices.
export { AppCredentialsService, APP_CREDENTIAL_TYPES, MASKED, type AppCredential, type AppCredentialType, type CreateAppCredential, type UpdateAppCredential, type CredentialSecret } from './app-credentials.ts'
export { UserDevicesService, DEVICE_TYPES, DEVICE_TOKEN_MAX, type UserDevice, type DeviceType, type RegisterDevice, type DeviceQuery, type DeviceLog, type PushStatus } from './devices.ts'
export { BadgeCountsService, MAX_BULK_BADGE_COUNTS, BADGE_TYPE_MAX, type BadgeCount, type SetBadgeCount } from './badge-counts.ts'
export { PushService, type PushNotification, type PushResult, type DevicePush, type PushEndpoints } from './push.service.ts'
export { UserNotificationsService, NOTIFICATION_CATEGORY_MAX, checkCategory, pushRendering, type UserNotification, type NotificationRecord, type NotificationQuery, type NotificationCount, type NotificationRenderings } from './user-notifications.ts'
