import type { Response } from 'light-my-request'
import { expect } from 'vitest'
import type { TestTenant } from '../factories/tenants.ts'
import type { TestApp } from './app.ts'
import { expectJsonApi } from './jsonapi.ts'

export type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
type Method = 'GET' | 'POST' | 'PATCH'
/** Who calls the messaging API: a tenant (with its organisation API key) or a bearer token of its own (a user token). */
export type Caller = TestTenant | string

/** Calls of the messaging API (JSON bodies, Bearer credentials) through `app().inject`. */
export interface CourierClient {
  call(who: Caller, method: Method, url: string, body?: unknown): Promise<Response>
  /** `call`, expecting `status` (201 for a POST, else 200, by default): the parsed document, checked against JSON:API 1.0 when the client validates. */
  ok(who: Caller, method: Method, url: string, body?: unknown, status?: number): Promise<Json>
}

/** A client for the tests of one file; `app` is read at each call (files start their app in beforeAll). */
export function courierClient(app: () => TestApp, options: { validate?: boolean } = {}): CourierClient {
  const call: CourierClient['call'] = (who, method, url, body) => app().app.inject({
    method, url,
    headers: { authorization: `Bearer ${typeof who === 'string' ? who : who.credentials.courier.api_key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  })
  const ok: CourierClient['ok'] = async (who, method, url, body, status = method === 'POST' ? 201 : 200) => {
    const r = await call(who, method, url, body)
    expect(r.statusCode, `${method} ${url} ${r.body}`).toBe(status)
    const parsed = JSON.parse(r.body) as Json
    return options.validate ? expectJsonApi(parsed) : parsed
  }
  return { call, ok }
}
