import { lookup as dnsLookup } from 'node:dns'
import { promises as dns } from 'node:dns'
import http from 'node:http'
import https from 'node:https'
import { BlockList, connect as netConnect, isIP, type LookupFunction, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'

/**
 * Outbound URL safety: a URL a tenant supplies (a status callback, a webhook, a provider's API
 * base) must not make this server talk to itself, its network or its cloud's metadata service
 * (server-side request forgery). Refused unless the operator allows it: non-http(s) schemes,
 * credentials in the URL, `localhost` names, and any host that is, or resolves to (any of its
 * addresses), a loopback, private (RFC 1918, ULA), CGNAT, link-local, unspecified, multicast,
 * reserved, documentation or metadata address. IPv4 written as one number, in octal or hex, or
 * mapped into IPv6 (also NAT64 and 6to4) is caught: URLs are parsed the WHATWG way (as browsers and
 * fetch do) and embedded IPv4 addresses are checked as IPv4.
 */

/** What the operator allows (SWITCHBOARD_ALLOW_PRIVATE_URLS, SWITCHBOARD_ALLOWED_URL_HOSTS). */
export interface UrlPolicy {
  /** Allow every non-public address (a closed network where webhooks go to private hosts). */
  readonly allowPrivate: boolean
  /** Host names (exact, case-insensitive), IP addresses or CIDR ranges allowed even when private. */
  readonly allowedHosts: readonly string[]
}

/** The default: nothing private. */
export const STRICT_URL_POLICY: UrlPolicy = Object.freeze({ allowPrivate: false, allowedHosts: Object.freeze([]) })

/** Why an address is not public. */
export type AddressCategory =
  | 'loopback' | 'private' | 'cgnat' | 'link-local' | 'unspecified' | 'multicast' | 'metadata' | 'reserved' | 'documentation'

/** Why a URL was refused: a stable `code` and a sentence naming the URL's problem. */
export class UnsafeUrlError extends Error {
  readonly code: 'invalid_url' | 'scheme_not_allowed' | 'credentials_in_url' | 'host_not_allowed' | 'unresolvable_host'
  readonly category: AddressCategory | undefined
  constructor(code: UnsafeUrlError['code'], message: string, category?: AddressCategory) {
    super(message)
    this.name = 'UnsafeUrlError'
    this.code = code
    this.category = category
  }
}

/** Resolves a host name to every address it has (`dns.lookup` with `all: true` by default). */
export type Resolver = (host: string) => Promise<Array<{ address: string; family: number }>>

const defaultResolver: Resolver = (host) => dns.lookup(host, { all: true, verbatim: true })

// Metadata services first: they are link-local or CGNAT too, but name the worse danger.
const METADATA = new BlockList()
METADATA.addAddress('169.254.169.254') // AWS, GCP, Azure, OpenStack, DigitalOcean
METADATA.addAddress('169.254.170.2') // AWS ECS task metadata
METADATA.addAddress('100.100.100.200') // Alibaba Cloud
METADATA.addAddress('fd00:ec2::254', 'ipv6') // AWS IPv6

const RANGES: Array<[AddressCategory, string, number, 'ipv4' | 'ipv6']> = [
  ['unspecified', '0.0.0.0', 8, 'ipv4'],
  ['private', '10.0.0.0', 8, 'ipv4'],
  ['cgnat', '100.64.0.0', 10, 'ipv4'],
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['link-local', '169.254.0.0', 16, 'ipv4'],
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['reserved', '192.0.0.0', 24, 'ipv4'],
  ['documentation', '192.0.2.0', 24, 'ipv4'],
  ['reserved', '192.88.99.0', 24, 'ipv4'],
  ['private', '192.168.0.0', 16, 'ipv4'],
  ['reserved', '198.18.0.0', 15, 'ipv4'],
  ['documentation', '198.51.100.0', 24, 'ipv4'],
  ['documentation', '203.0.113.0', 24, 'ipv4'],
  ['multicast', '224.0.0.0', 4, 'ipv4'],
  ['reserved', '240.0.0.0', 4, 'ipv4'], // includes 255.255.255.255
  ['unspecified', '::', 128, 'ipv6'],
  ['loopback', '::1', 128, 'ipv6'],
  ['reserved', '::', 96, 'ipv6'], // IPv4-compatible (deprecated)
  ['reserved', '100::', 64, 'ipv6'], // discard-only
  ['reserved', '2001::', 23, 'ipv6'], // IETF protocol assignments (Teredo, ORCHID...)
  ['documentation', '2001:db8::', 32, 'ipv6'],
  ['documentation', '3fff::', 20, 'ipv6'],
  ['private', 'fc00::', 7, 'ipv6'], // unique local
  ['link-local', 'fe80::', 10, 'ipv6'],
  ['private', 'fec0::', 10, 'ipv6'], // site-local (deprecated)
  ['multicast', 'ff00::', 8, 'ipv6'],
]
const BLOCKS = RANGES.map(([category, net, prefix, type]) => {
  const list = new BlockList()
  list.addSubnet(net, prefix, type)
  return { category, list, type }
})

/** The 8 hextets of an IPv6 address (with an optional dotted IPv4 tail), or undefined. */
function hextets(ip: string): number[] | undefined {
  let text = ip.toLowerCase()
  const zone = text.indexOf('%')
  if (zone >= 0) text = text.slice(0, zone)
  const v4tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (v4tail) {
    const [a, b, c, d] = v4tail.slice(1).map(Number) as [number, number, number, number]
    text = text.slice(0, v4tail.index) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16)
  }
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const head = halves[0] ? halves[0].split(':') : []
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : []
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0
  const parts = [...head, ...Array<string>(Math.max(fill, 0)).fill('0'), ...tail]
  if (parts.length !== 8) return undefined
  const out = parts.map((p) => Number.parseInt(p, 16))
  return out.every((n) => Number.isInteger(n) && n >= 0 && n <= 0xffff) ? out : undefined
}

/** The IPv4 address an IPv6 address carries (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16). */
export function embeddedIpv4(ip: string): string | undefined {
  const h = hextets(ip)
  if (!h) return undefined
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`
  if (h.slice(0, 5).every((x) => x === 0) && h[5] === 0xffff) return v4(h[6]!, h[7]!)
  if (h[0] === 0x64 && h[1] === 0xff9b && h.slice(2, 6).every((x) => x === 0)) return v4(h[6]!, h[7]!)
  if (h[0] === 0x2002) return v4(h[1]!, h[2]!)
  return undefined
}

/**
 * Why an IP address is not a public unicast address, or undefined when it is. IPv4 embedded in
 * IPv6 is judged as the IPv4 address it carries.
 */
export function classifyAddress(ip: string): AddressCategory | undefined {
  const family = isIP(ip)
  if (family === 0) throw new TypeError(`not an IP address: ${ip}`)
  if (family === 6) {
    const v4 = embeddedIpv4(ip)
    if (v4 !== undefined) return classifyAddress(v4)
  }
  const type = family === 4 ? 'ipv4' : 'ipv6'
  const bare = ip.split('%')[0]!
  if (METADATA.check(bare, type)) return 'metadata'
  for (const b of BLOCKS) if (b.type === type && b.list.check(bare, type)) return b.category
  return undefined
}

/** Host names that always mean this machine or a metadata service, whatever DNS says. */
function reservedName(host: string): AddressCategory | undefined {
  if (host === 'localhost' || host.endsWith('.localhost') || host === 'localhost.localdomain' || host === 'ip6-localhost' || host === 'ip6-loopback') return 'loopback'
  if (host === 'metadata' || host === 'metadata.google.internal' || host === 'instance-data' || host.endsWith('.metadata.google.internal')) return 'metadata'
  return undefined
}

/** A URL host without brackets and trailing dots, lower-cased: `[::1]` → `::1`, `Example.COM.` → `example.com`. */
export function normalizeHost(host: string): string {
  let h = host.toLowerCase()
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1)
  return h.replace(/\.+$/, '')
}

function allowListed(policy: UrlPolicy, host: string, addresses: readonly string[] = []): boolean {
  for (const entry of policy.allowedHosts) {
    const e = normalizeHost(entry)
    if (e === host) return true
    const slash = e.indexOf('/')
    if (slash > 0 || isIP(e)) {
      const net = slash > 0 ? e.slice(0, slash) : e
      const family = isIP(net)
      if (family === 0) continue
      const prefix = slash > 0 ? Number(e.slice(slash + 1)) : family === 4 ? 32 : 128
      const list = new BlockList()
      list.addSubnet(net, prefix, family === 4 ? 'ipv4' : 'ipv6')
      const candidates = isIP(host) ? [host] : addresses
      if (candidates.length > 0 && candidates.every((a) => list.check(a, isIP(a) === 4 ? 'ipv4' : 'ipv6'))) return true
    }
  }
  return false
}

/** Whether one allow-list entry is well formed (a host name, an IP address, or a CIDR range). */
export function isValidAllowEntry(entry: string): boolean {
  const e = normalizeHost(entry.trim())
  if (e.length === 0 || e.length > 253) return false
  const slash = e.indexOf('/')
  if (slash >= 0) {
    const family = isIP(e.slice(0, slash))
    const prefix = e.slice(slash + 1)
    return family !== 0 && /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128)
  }
  return isIP(e) !== 0 || /^(?=.{1,253}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?)(\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?)*$/.test(e)
}

/** A URL that passed the checks, with the addresses its host had when checked. */
export interface CheckedUrl {
  readonly url: URL
  /** Normalised host (no brackets, no trailing dot). */
  readonly host: string
  /** The addresses it resolved to (the literal address for an IP host); connect only to these. */
  readonly addresses: ReadonlyArray<{ address: string; family: 4 | 6 }>
}

function describe(url: string): string {
  return url.length > 200 ? url.slice(0, 200) + '…' : url
}

/**
 * Check the syntax of a tenant-supplied URL without DNS: scheme, credentials, literal address and
 * reserved names. Throws UnsafeUrlError.
 */
export function checkUrlSyntax(raw: string, policy: UrlPolicy = STRICT_URL_POLICY): { url: URL; host: string } {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new UnsafeUrlError('invalid_url', `${describe(raw)} is not a valid URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UnsafeUrlError('scheme_not_allowed', `${describe(raw)}: only http and https URLs are allowed`)
  }
  if (url.username !== '' || url.password !== '') {
    throw new UnsafeUrlError('credentials_in_url', `${describe(raw)}: URLs must not carry credentials`)
  }
  const host = normalizeHost(url.hostname)
  if (host === '') throw new UnsafeUrlError('invalid_url', `${describe(raw)} has no host`)
  if (policy.allowPrivate || allowListed(policy, host)) return { url, host }
  const named = reservedName(host)
  if (named) throw new UnsafeUrlError('host_not_allowed', `${describe(raw)}: ${host} is a ${named} address`, named)
  if (isIP(host)) {
    const category = classifyAddress(host)
    if (category) throw new UnsafeUrlError('host_not_allowed', `${describe(raw)}: ${host} is a ${category} address`, category)
  }
  return { url, host }
}

/**
 * Check a tenant-supplied host that is not a URL (an SMTP server): the same rules as a URL's host
 * (reserved names, literal addresses, every DNS answer). Throws UnsafeUrlError. Answers the
 * addresses it resolved to.
 */
export async function checkOutboundHost(host: string, policy: UrlPolicy = STRICT_URL_POLICY, resolve: Resolver = defaultResolver): Promise<CheckedUrl['addresses']> {
  const literal = isIP(normalizeHost(host)) === 6 ? `[${normalizeHost(host)}]` : host
  return (await checkOutboundUrl(`https://${literal}/`, policy, resolve)).addresses
}

/**
 * Check a tenant-supplied URL: its syntax (`checkUrlSyntax`) and every address its host resolves
 * to. Throws UnsafeUrlError (`unresolvable_host` when DNS has no answer). Connect only to the
 * returned addresses (`safeRequest` does), or a DNS answer that changes in between (rebinding)
 * could still reach a private address.
 */
export async function checkOutboundUrl(raw: string, policy: UrlPolicy = STRICT_URL_POLICY, resolve: Resolver = defaultResolver): Promise<CheckedUrl> {
  const { url, host } = checkUrlSyntax(raw, policy)
  const family = isIP(host)
  if (family !== 0) return { url, host, addresses: [{ address: host, family: family as 4 | 6 }] }
  let found: Array<{ address: string; family: number }>
  try {
    found = await resolve(host)
  } catch (err) {
    throw new UnsafeUrlError('unresolvable_host', `${describe(raw)}: ${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
  if (found.length === 0) throw new UnsafeUrlError('unresolvable_host', `${describe(raw)}: ${host} does not resolve`)
  const addresses = found.map((a) => ({ address: a.address, family: (isIP(a.address) === 6 ? 6 : 4) as 4 | 6 }))
  if (!policy.allowPrivate && !allowListed(policy, host, addresses.map((a) => a.address))) {
    for (const a of addresses) {
      const category = classifyAddress(a.address)
      if (category) throw new UnsafeUrlError('host_not_allowed', `${describe(raw)}: ${host} resolves to ${a.address}, a ${category} address`, category)
    }
  }
  return { url, host, addresses }
}

/**
 * Why connecting to `hostname` is refused before any DNS (a reserved name such as `localhost` or
 * `metadata.google.internal`, or a literal address in a refused range: sockets never look a
 * literal address up, so a lookup check alone would miss it), or undefined.
 */
export function hostRefusal(hostname: string, policy: UrlPolicy = STRICT_URL_POLICY): UnsafeUrlError | undefined {
  const host = normalizeHost(hostname)
  if (policy.allowPrivate || allowListed(policy, host)) return undefined
  const named = reservedName(host)
  if (named) return new UnsafeUrlError('host_not_allowed', `${host} is a ${named} address`, named)
  if (isIP(host)) {
    const category = classifyAddress(host)
    if (category) return new UnsafeUrlError('host_not_allowed', `${host} is a ${category} address`, category)
  }
  return undefined
}

/** Why connecting to `hostname` at these resolved addresses is refused, or undefined. */
export function addressRefusal(hostname: string, addresses: readonly string[], policy: UrlPolicy = STRICT_URL_POLICY): UnsafeUrlError | undefined {
  const host = normalizeHost(hostname)
  if (policy.allowPrivate || allowListed(policy, host, addresses)) return undefined
  for (const address of addresses) {
    const category = classifyAddress(address)
    if (category) return new UnsafeUrlError('host_not_allowed', `${host} resolves to ${address}, a ${category} address`, category)
  }
  return undefined
}

/**
 * A `dns.lookup` replacement for sockets (`http.Agent`, `net.connect`, `http2.connect`): it
 * resolves (through `resolve`, by default `dns.lookup`) and fails the connection with an
 * UnsafeUrlError (mapped by `refuse`) when the name is reserved or any address is not allowed
 * under `policy`. It runs as the socket connects, and the socket connects to what it answered:
 * one resolution, checked, no window for a DNS answer that changes in between (rebinding).
 */
export function safeLookup(policy: UrlPolicy = STRICT_URL_POLICY, resolve?: Resolver, refuse: (err: UnsafeUrlError) => Error = (e) => e): LookupFunction {
  return (hostname, options, callback) => {
    const answer = (err: Error | null, list: Array<{ address: string; family: number }>) => {
      if (err) return callback(err, '', 0)
      if (list.length === 0) return callback(Object.assign(new Error(`${hostname} does not resolve`), { code: 'ENOTFOUND' }), '', 0)
      const refusal = hostRefusal(hostname, policy) ?? addressRefusal(hostname, list.map((a) => a.address), policy)
      if (refusal) return callback(refuse(refusal), '', 0)
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list)
      callback(null, list[0]!.address, list[0]!.family)
    }
    if (resolve) {
      resolve(hostname).then((list) => answer(null, list), (err: Error) => answer(err, []))
      return
    }
    dnsLookup(hostname, { ...options, all: true, verbatim: true }, (err, results) => answer(err, (results ?? []) as unknown as Array<{ address: string; family: number }>))
  }
}

/** Options of the guarded HTTP client. */
export interface GuardedHttpOptions {
  /** What the operator allows. Default: nothing private. */
  readonly policy?: UrlPolicy | undefined
  /** For tests: how host names resolve at connect time. */
  readonly resolve?: Resolver | undefined
  /** Keep connections open for reuse (default true). */
  readonly keepAlive?: boolean | undefined
  /** Connections per origin (default 64). */
  readonly maxSockets?: number | undefined
  /** PEM of a private CA for https. */
  readonly ca?: string | undefined
  /** Turns a refusal into the error the caller's layer speaks (providers: ProviderError `unsafe_endpoint`). */
  readonly refuse?: ((err: UnsafeUrlError) => Error) | undefined
}

/** One request of the guarded HTTP client. */
export interface GuardedRequestOptions {
  readonly method?: string
  readonly headers?: Readonly<Record<string, string | number>>
  readonly body?: string | Buffer
  /** Whole-request deadline. Default 10 s. */
  readonly timeoutMs?: number
  /** Largest response body kept (the rest is dropped and `truncated` set). Default 1 MiB. */
  readonly maxBodyBytes?: number
  readonly signal?: AbortSignal
}

/** What the guarded HTTP client answers. */
export interface GuardedResponse {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly body: Buffer
  /** The body was longer than `maxBodyBytes`. */
  readonly truncated: boolean
}

/** An http(s) agent whose every connection is checked: the literal host before, the DNS answer as it connects. */
function guardedAgent<A extends typeof http.Agent | typeof https.Agent>(Base: A, options: http.AgentOptions & https.AgentOptions, policy: UrlPolicy, refuse: (err: UnsafeUrlError) => Error, resolve?: Resolver): InstanceType<A> {
  const lookup = safeLookup(policy, resolve, refuse)
  const Guarded = class extends (Base as typeof http.Agent) {
    override createConnection(opts: http.ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void) {
      const refusal = hostRefusal(String(opts.host ?? opts.hostname ?? 'localhost'), policy)
      if (refusal) {
        callback?.(refuse(refusal), undefined as unknown as Duplex)
        return undefined
      }
      return super.createConnection({ ...opts, lookup }, callback)
    }
  }
  return new Guarded({ ...options, lookup }) as InstanceType<A>
}

/**
 * The one HTTP client for connections a tenant's settings can steer (vendor base URLs, OAuth token
 * URIs, Web Push endpoints, attachment URLs, webhook callbacks): every connection its agents open
 * is checked against the outbound URL policy when it is made — a reserved name or literal address
 * before connecting, the resolved addresses by the socket's own lookup (`safeLookup`) — so a name
 * that passed a check when it was saved and resolves to loopback later is still refused, and
 * nothing checks once and resolves again afterwards. Kept-alive connections are reused per origin;
 * `close()` releases them. Redirects are not followed.
 */
export class GuardedHttpClient {
  readonly policy: UrlPolicy
  /** The checking lookup, for sockets made elsewhere (`http2.connect`, SMTP). */
  readonly lookup: LookupFunction
  readonly #refuse: (err: UnsafeUrlError) => Error
  readonly #resolve: Resolver | undefined
  readonly #agentOptions: http.AgentOptions & https.AgentOptions
  #http: http.Agent | undefined
  #https: https.Agent | undefined

  constructor(options: GuardedHttpOptions = {}) {
    this.policy = options.policy ?? STRICT_URL_POLICY
    this.#refuse = options.refuse ?? ((e) => e)
    this.#resolve = options.resolve
    this.lookup = safeLookup(this.policy, this.#resolve, this.#refuse)
    this.#agentOptions = { keepAlive: options.keepAlive ?? true, maxSockets: options.maxSockets ?? 64, ...(options.ca ? { ca: options.ca } : {}) }
  }

  /** The agent for `http:` or `https:` (made on first use): pass it to `http.request` as `agent`. */
  agent(protocol: string): http.Agent {
    if (protocol === 'https:') return (this.#https ??= guardedAgent(https.Agent, this.#agentOptions, this.policy, this.#refuse, this.#resolve))
    return (this.#http ??= guardedAgent(http.Agent, this.#agentOptions, this.policy, this.#refuse, this.#resolve))
  }

  /**
   * A URL this client may request: http(s), no credentials, not a refused literal address or
   * reserved name. Throws the refusal (mapped by `refuse`).
   */
  check(raw: string | URL): URL {
    try {
      return checkUrlSyntax(String(raw), this.policy).url
    } catch (err) {
      throw err instanceof UnsafeUrlError ? this.#refuse(err) : err
    }
  }

  /**
   * One request; answers any status. Throws the refusal, a network error, or a `TimeoutError`.
   * A kept-alive socket the server closed while it sat idle fails the next request with
   * ECONNRESET before any answer: such a request is sent once more, on a fresh connection (what
   * Node's documentation for `request.reusedSocket` recommends). The server closed that socket
   * without answering; should it have read the request first, the receiver sees it twice, which
   * it can tell by the webhook's id, as with any retry.
   */
  async request(raw: string | URL, options: GuardedRequestOptions = {}): Promise<GuardedResponse> {
    const url = this.check(raw)
    try {
      return await this.#requestOnce(url, options)
    } catch (err) {
      if (!(err instanceof StaleSocketError)) throw err
    }
    const Base = url.protocol === 'https:' ? https.Agent : http.Agent
    const once = guardedAgent(Base, { ...this.#agentOptions, keepAlive: false }, this.policy, this.#refuse, this.#resolve)
    try {
      return await this.#requestOnce(url, options, once)
    } finally {
      once.destroy()
    }
  }

  /** One request on the shared agent, or on `fresh` (a one-off agent, never reported stale). */
  #requestOnce(url: URL, options: GuardedRequestOptions, fresh?: http.Agent): Promise<GuardedResponse> {
    const client = url.protocol === 'https:' ? https : http
    const maxBody = options.maxBodyBytes ?? 1024 * 1024
    const timeoutMs = options.timeoutMs ?? 10_000
    return new Promise<GuardedResponse>((resolvePromise, reject) => {
      let answered = false
      const agent = fresh ?? this.agent(url.protocol)
      const req = client.request(url, { method: options.method ?? 'GET', headers: options.headers, agent, signal: options.signal }, (res) => {
        answered = true
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size <= maxBody) chunks.push(chunk)
        })
        res.on('end', () => {
          clearTimeout(timer)
          resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), truncated: size > maxBody })
        })
        res.on('error', (err) => {
          clearTimeout(timer)
          reject(err)
        })
      })
      const timer = setTimeout(() => {
        req.destroy(Object.assign(new Error(`no answer from ${url.host} in ${timeoutMs} ms`), { name: 'TimeoutError', code: 'ETIMEDOUT' }))
      }, timeoutMs)
      req.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer)
        const stale = fresh === undefined && !answered && req.reusedSocket && err.code === 'ECONNRESET'
        reject(stale ? new StaleSocketError(err) : err)
      })
      req.end(options.body)
    })
  }

  /**
   * A TCP connection to `host:port` (an SMTP server), checked the same way: the host before, the
   * DNS answer as the socket connects. Rejects with the refusal, a network error, or a
   * `TimeoutError` after `timeoutMs`.
   */
  connect(host: string, port: number, timeoutMs = 10_000): Promise<Socket> {
    const refusal = hostRefusal(host, this.policy)
    if (refusal) return Promise.reject(this.#refuse(refusal))
    return new Promise<Socket>((resolvePromise, reject) => {
      const socket = netConnect({ host: normalizeHost(host), port, lookup: this.lookup })
      const timer = setTimeout(() => {
        socket.destroy(Object.assign(new Error(`no connection to ${host}:${port} in ${timeoutMs} ms`), { name: 'TimeoutError', code: 'ETIMEDOUT' }))
      }, timeoutMs)
      socket.once('connect', () => {
        clearTimeout(timer)
        socket.removeListener('error', onError)
        resolvePromise(socket)
      })
      const onError = (err: Error) => {
        clearTimeout(timer)
        reject(err)
      }
      socket.once('error', onError)
    })
  }

  /** Release kept-alive connections. */
  close(): void {
    this.#http?.destroy()
    this.#https?.destroy()
  }
}

/** A reused kept-alive socket the server had closed (the request is sent again, fresh). */
class StaleSocketError extends Error {
  readonly original: Error
  constructor(original: Error) {
    super(original.message)
    this.original = original
  }
}

/** What `safeRequest` answers. */
export interface SafeResponse {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
}

export interface SafeRequestOptions extends GuardedRequestOptions {
  /** For tests: how host names resolve. */
  readonly resolve?: Resolver
}

/**
 * One HTTP(S) request to a tenant-supplied URL on a fresh connection of the guarded client (the
 * host checked as the socket resolves it, once). Throws UnsafeUrlError, or the network error.
 */
export async function safeRequest(raw: string, policy: UrlPolicy, options: SafeRequestOptions = {}): Promise<SafeResponse> {
  const client = new GuardedHttpClient({ policy, resolve: options.resolve, keepAlive: false })
  try {
    const res = await client.request(raw, options)
    return { status: res.status, headers: res.headers, body: res.body.toString('utf8') }
  } finally {
    client.close()
  }
}
