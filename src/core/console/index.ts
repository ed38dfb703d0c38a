export { ConsoleService, canManageUsers, LOCKOUT, SESSION_MS } from './console.service.ts'
export { CONSOLE_ROLES } from './console.types.ts'
export type { ConsoleRole, ConsoleUser, ConsoleSession, CreateConsoleUserInput } from './console.types.ts'
