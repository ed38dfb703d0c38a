import type { TestTenant } from '../factories/tenants.ts'
import type { TestApp } from './app.ts'

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any
/** An answer of the Apps API or the agent API: the status and the parsed body (null when empty). */
export interface CcaiAnswer { status: number; body: Json }

const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const
/** Calling hours open all day every day (a setup file's `calling_hours`), so tests dial at any hour. */
export const ALL_DAY = `{ weekly: [${DAYS.map((d) => `{ day: ${d}, open: "00:00", close: "24:00" }`).join(', ')}] }`
/** A weekday neither yesterday, today nor tomorrow anywhere (three days from now in UTC): calling hours closed now. */
export const OTHER_DAY = DAYS[(new Date().getUTCDay() + 3) % 7]!

/**
 * The Apps API (`/apps/api/v1`, as the tenant's Basic credentials) and the agent API (`/agent/v1`,
 * as an agent's bearer token) over the test app's in-process HTTP: JSON in, `{status, body}` out.
 */
export function ccaiClient(app: () => TestApp) {
  const send = async (url: string, method: string, authorization: string, payload: unknown): Promise<CcaiAnswer> => {
    const r = await app().app.inject({
      method: method as 'GET', url, headers: { authorization, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}),
    })
    return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : null }
  }
  return {
    apps: (tt: TestTenant, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown) => send(`/apps/api/v1${url}`, method, tt.ccaiAuth, payload),
    agent: (token: string, method: 'GET' | 'PUT' | 'POST', url: string, payload?: unknown) => send(`/agent/v1${url}`, method, `Bearer ${token}`, payload),
  }
}
