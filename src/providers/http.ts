/**
 * The providers' side of the one guarded HTTP client (`GuardedHttpClient` in lib/url-safety): every
 * vendor connection a tenant's settings can steer goes through it, and a refused address is a
 * ProviderError `unsafe_endpoint` that a retry cannot fix.
 */
import { GuardedHttpClient, STRICT_URL_POLICY, type Resolver, type UrlPolicy } from '../lib/url-safety.ts'
import { ProviderError } from './types.ts'

/** What every provider factory takes beside its settings. */
export interface ProviderOptions {
  /** The operator's outbound URL policy (SWITCHBOARD_ALLOW_PRIVATE_URLS, SWITCHBOARD_ALLOWED_URL_HOSTS). Default: nothing private. */
  readonly urlPolicy?: UrlPolicy | undefined
  /** For tests: how host names resolve when a connection is made. */
  readonly resolve?: Resolver | undefined
}

/** The guarded client of one provider: refusals become ProviderError `unsafe_endpoint` (permanent). */
export function vendorHttp(vendor: string, options: ProviderOptions & { keepAlive?: boolean; maxSockets?: number; ca?: string | undefined } = {}): GuardedHttpClient {
  return new GuardedHttpClient({
    policy: options.urlPolicy ?? STRICT_URL_POLICY,
    resolve: options.resolve,
    keepAlive: options.keepAlive,
    maxSockets: options.maxSockets,
    ca: options.ca,
    refuse: (err) => new ProviderError('unsafe_endpoint', `${vendor}: ${err.message}`, { retryable: false, cause: err }),
  })
}

/** A request that did not get an answer (refused, reset, timed out): retryable; a refused address is not. */
export function networkError(vendor: string, err: unknown): ProviderError {
  if (err instanceof ProviderError) return err
  const e = err as { name?: string; message?: string; code?: string; cause?: { code?: string; message?: string } }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return new ProviderError('timeout', `${vendor}: no answer in time`, { retryable: true, cause: err })
  }
  const detail = e?.cause?.code ?? e?.cause?.message ?? e?.code ?? e?.message ?? String(err)
  return new ProviderError('network_error', `${vendor}: ${detail}`, { retryable: true, cause: err })
}

/** Statuses whose answers have no body (a `Response` refuses one). */
const NULL_BODY = new Set([101, 103, 204, 205, 304])

/**
 * POST through the provider's guarded client with a deadline, answered as a fetch `Response`;
 * network failures and timeouts become retryable ProviderErrors, a refused address
 * `unsafe_endpoint`.
 */
export async function post(vendor: string, http: GuardedHttpClient, url: string, init: { headers: Record<string, string>; body: string | Buffer; timeoutMs: number }): Promise<Response> {
  let answer: Awaited<ReturnType<GuardedHttpClient['request']>>
  try {
    answer = await http.request(url, {
      method: 'POST', headers: { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) }, body: init.body, timeoutMs: init.timeoutMs,
    })
  } catch (err) {
    throw networkError(vendor, err)
  }
  const headers = new Headers()
  for (const [name, value] of Object.entries(answer.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v)
    else if (value !== undefined) headers.set(name, value)
  }
  const status = answer.status >= 200 && answer.status <= 599 ? answer.status : 502
  return new Response(NULL_BODY.has(status) ? null : new Uint8Array(answer.body), { status, headers })
}
