export { WebchatService, MAX_WEBCHAT_TEXT, MAX_HISTORY } from './webchat.service.ts'
export type { WebchatServiceDeps } from './webchat.service.ts'
export type { WebchatMessage, WebchatPerson, WebchatSession, WebchatHistory, WebchatSubscription } from './webchat.types.ts'
