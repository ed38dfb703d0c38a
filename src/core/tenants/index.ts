export { TenantsService, slugify } from './tenants.service.ts'
export type { Tenant, Surface, CredentialKind, IssuedCredentials, MessagingSettings } from './tenants.types.ts'
export { ProviderSettingsService, maskOptions, maskValue } from './provider-settings.service.ts'
export type { ProviderCatalog, ProviderSetting, ProviderSettingsOptions } from './provider-settings.service.ts'
