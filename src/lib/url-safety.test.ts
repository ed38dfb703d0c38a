import { createServer, Agent, get, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig, ConfigError } from '../config.ts'
import {
  checkOutboundUrl, checkUrlSyntax, classifyAddress, embeddedIpv4, GuardedHttpClient, isValidAllowEntry, safeLookup, safeRequest, STRICT_URL_POLICY,
  UnsafeUrlError, type Resolver, type UrlPolicy,
} from './url-safety.ts'

const resolverOf = (table: Record<string, string[]>): Resolver => async (host) => {
  const found = table[host]
  if (!found) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' })
  return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
}
const publicDns = resolverOf({ 'example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'] })

async function refusal(url: string, policy: UrlPolicy = STRICT_URL_POLICY, resolve: Resolver = publicDns): Promise<UnsafeUrlError> {
  const err = await checkOutboundUrl(url, policy, resolve).then(() => undefined, (e: unknown) => e)
  expect(err, url).toBeInstanceOf(UnsafeUrlError)
  return err as UnsafeUrlError
}

describe('classifyAddress', () => {
  it('names every non-public range, and passes public unicast addresses', () => {
    const cases: Array<[string, string | undefined]> = [
      ['127.0.0.1', 'loopback'], ['127.255.255.254', 'loopback'], ['10.1.2.3', 'private'], ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'], ['192.168.1.1', 'private'], ['100.64.0.1', 'cgnat'], ['100.127.255.255', 'cgnat'],
      ['169.254.1.1', 'link-local'], ['169.254.169.254', 'metadata'], ['100.100.100.200', 'metadata'], ['0.0.0.0', 'unspecified'],
      ['224.0.0.1', 'multicast'], ['239.255.255.250', 'multicast'], ['255.255.255.255', 'reserved'], ['240.0.0.1', 'reserved'],
      ['192.0.2.1', 'documentation'], ['198.18.0.1', 'reserved'],
      ['::1', 'loopback'], ['::', 'unspecified'], ['fe80::1', 'link-local'], ['fc00::1', 'private'], ['fd12:3456::1', 'private'],
      ['ff02::1', 'multicast'], ['fd00:ec2::254', 'metadata'], ['2001:db8::1', 'documentation'],
      // IPv4 inside IPv6: mapped, NAT64 and 6to4 are judged as the IPv4 address they carry.
      ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'], ['::ffff:a9fe:a9fe', 'metadata'], ['64:ff9b::a00:1', 'private'],
      ['2002:c0a8:0101::1', 'private'], ['::ffff:8.8.8.8', undefined],
      ['8.8.8.8', undefined], ['93.184.215.14', undefined], ['172.32.0.1', undefined], ['100.128.0.1', undefined],
      ['2606:4700:4700::1111', undefined],
    ]
    for (const [ip, category] of cases) expect(classifyAddress(ip), ip).toBe(category)
    expect(embeddedIpv4('::ffff:10.0.0.1')).toBe('10.0.0.1')
    expect(embeddedIpv4('2606:4700::1')).toBeUndefined()
    expect(() => classifyAddress('example.com')).toThrow(TypeError)
  })
})

describe('checkOutboundUrl', () => {
  it('accepts a public http(s) URL and reports every address its host has', async () => {
    const ok = await checkOutboundUrl('https://example.com/hooks/status?x=1', STRICT_URL_POLICY, publicDns)
    expect(ok.host).toBe('example.com')
    expect(ok.addresses.map((a) => a.family)).toEqual([4, 6])
    expect((await checkOutboundUrl('http://8.8.8.8:8080/x', STRICT_URL_POLICY, publicDns)).addresses).toEqual([{ address: '8.8.8.8', family: 4 }])
  })

  it('refuses literal private hosts in every spelling: decimal, octal, hex, short, IPv4-mapped IPv6, trailing dots', async () => {
    for (const url of [
      'http://127.0.0.1/', 'http://2130706433/', 'http://0x7f000001/', 'http://0177.0.0.1/', 'http://0x7f.1/', 'http://127.1/',
      'http://[::1]/', 'http://[::ffff:127.0.0.1]/', 'http://[::ffff:7f00:1]:8080/', 'http://[0:0:0:0:0:ffff:169.254.169.254]/',
      'http://169.254.169.254/latest/meta-data/', 'http://10.0.0.5/', 'http://192.168.0.1./', 'http://100.64.1.1/', 'http://0.0.0.0/',
      'http://[fd00::1]/', 'http://[fe80::1]/', 'http://224.0.0.1/', 'http://0/',
    ]) {
      const err = await refusal(url)
      expect(err.code, url).toBe('host_not_allowed')
    }
    expect((await refusal('http://2130706433/')).message).toContain('127.0.0.1 is a loopback address')
    expect((await refusal('http://169.254.169.254/')).category).toBe('metadata')
  })

  it('refuses localhost and metadata names whatever DNS says, with or without trailing dots', async () => {
    const lying = resolverOf({ 'localhost': ['93.184.215.14'], 'app.localhost': ['93.184.215.14'] })
    for (const url of ['http://localhost/', 'http://LOCALHOST./', 'http://localhost../x', 'http://app.localhost/', 'http://metadata.google.internal/']) {
      expect((await refusal(url, STRICT_URL_POLICY, lying)).code, url).toBe('host_not_allowed')
    }
  })

  it('refuses a name when any of its addresses is private (not only the first)', async () => {
    const dns = resolverOf({ 'mixed.example': ['93.184.215.14', '10.0.0.7'], 'rebind.example': ['127.0.0.1'], 'v6.example': ['::ffff:192.168.1.1'] })
    expect((await refusal('https://mixed.example/', STRICT_URL_POLICY, dns)).message).toContain('resolves to 10.0.0.7, a private address')
    await refusal('https://rebind.example/', STRICT_URL_POLICY, dns)
    expect((await refusal('https://v6.example./', STRICT_URL_POLICY, dns)).category).toBe('private')
    expect((await refusal('https://nowhere.example/')).code).toBe('unresolvable_host')
  })

  it('refuses other schemes, credentials in the URL and garbage', async () => {
    for (const url of ['ftp://example.com/', 'file:///etc/passwd', 'gopher://example.com/', 'javascript:alert(1)', 'data:text/plain,x']) {
      expect((await refusal(url)).code, url).toBe('scheme_not_allowed')
    }
    expect((await refusal('https://user:pass@example.com/')).code).toBe('credentials_in_url')
    expect((await refusal('https://user@example.com/')).code).toBe('credentials_in_url')
    for (const url of ['not a url', '', 'http://', '//example.com/x']) expect((await refusal(url)).code, url).toBe('invalid_url')
  })

  it('allows what the operator allows: everything private, or listed hosts, addresses and ranges', async () => {
    const dns = resolverOf({ 'hooks.internal': ['10.1.2.3'], 'other.internal': ['10.9.9.9'], localhost: ['127.0.0.1'] })
    await expect(checkOutboundUrl('http://127.0.0.1:9000/x', { allowPrivate: true, allowedHosts: [] }, dns)).resolves.toMatchObject({ host: '127.0.0.1' })
    await expect(checkOutboundUrl('http://localhost/x', { allowPrivate: true, allowedHosts: [] }, dns)).resolves.toBeDefined()
    const listed: UrlPolicy = { allowPrivate: false, allowedHosts: ['hooks.internal', '127.0.0.1', '192.168.0.0/16', 'fd00::/8'] }
    await expect(checkOutboundUrl('http://HOOKS.internal./status', listed, dns)).resolves.toBeDefined()
    await expect(checkOutboundUrl('http://127.0.0.1:4000/', listed, dns)).resolves.toBeDefined()
    await expect(checkOutboundUrl('http://192.168.44.1/', listed, dns)).resolves.toBeDefined()
    await expect(checkOutboundUrl('http://[fd00::5]/', listed, dns)).resolves.toBeDefined()
    await refusal('http://other.internal/', listed, dns)
    await refusal('http://127.0.0.2/', listed, dns)
    // The allow-list never admits credentials or other schemes.
    expect((await refusal('http://a:b@hooks.internal/', listed, dns)).code).toBe('credentials_in_url')
    expect(() => checkUrlSyntax('ftp://hooks.internal/', listed)).toThrow(/only http and https/)
  })
})

describe('configuration', () => {
  const base = { SWITCHBOARD_SECRET_KEY: '0'.repeat(64), SWITCHBOARD_DATA_DIR: '/nonexistent' }
  it('parses SWITCHBOARD_ALLOW_PRIVATE_URLS and SWITCHBOARD_ALLOWED_URL_HOSTS, refusing bad values', () => {
    expect(loadConfig(base).urlPolicy).toEqual({ allowPrivate: false, allowedHosts: [] })
    expect(loadConfig({ ...base, SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true' }).urlPolicy.allowPrivate).toBe(true)
    expect(loadConfig({ ...base, SWITCHBOARD_ALLOWED_URL_HOSTS: ' hooks.internal , 10.0.0.0/8,::1 ' }).urlPolicy.allowedHosts).toEqual(['hooks.internal', '10.0.0.0/8', '::1'])
    expect(() => loadConfig({ ...base, SWITCHBOARD_ALLOW_PRIVATE_URLS: 'yes please' })).toThrow(ConfigError)
    for (const bad of ['http://x.com', '10.0.0.0/33', 'a b', 'x/8']) {
      expect(() => loadConfig({ ...base, SWITCHBOARD_ALLOWED_URL_HOSTS: bad }), bad).toThrow(/SWITCHBOARD_ALLOWED_URL_HOSTS/)
    }
    expect(isValidAllowEntry('Example.COM.')).toBe(true)
  })
})

describe('requests to tenant URLs', () => {
  let server: Server
  let port = 0
  const seen: string[] = []
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} host=${req.headers.host}`)
      res.end('pong')
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    port = (server.address() as AddressInfo).port
  })
  afterAll(async () => new Promise<void>((r) => server.close(() => r())))

  it('safeRequest connects to the address it checked, never to what DNS says later', async () => {
    // The name first resolves to the allowed loopback server; a second lookup would say otherwise.
    let lookups = 0
    const rebinding: Resolver = async () => (lookups++ === 0 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '10.0.0.1', family: 4 }])
    const policy: UrlPolicy = { allowPrivate: false, allowedHosts: ['hooks.test'] }
    const answer = await safeRequest(`http://hooks.test:${port}/ping`, policy, { method: 'POST', body: 'x', resolve: rebinding })
    expect(answer).toMatchObject({ status: 200, body: 'pong' })
    expect(lookups).toBe(1)
    expect(seen).toContain(`POST /ping host=hooks.test:${port}`)
    await expect(safeRequest(`http://127.0.0.1:${port}/ping`, STRICT_URL_POLICY)).rejects.toMatchObject({ code: 'host_not_allowed' })
  })

  it('safeLookup makes an ordinary http.Agent refuse private addresses when it connects', async () => {
    const strict = new Agent({ lookup: safeLookup(STRICT_URL_POLICY) } as ConstructorParameters<typeof Agent>[0])
    const refused = await new Promise<Error>((resolve) => {
      get(`http://localhost:${port}/x`, { agent: strict }, () => resolve(new Error('connected'))).on('error', resolve)
    })
    expect(refused.message).toMatch(/is a loopback address|resolves to .* a loopback address/)
    const open = new Agent({ lookup: safeLookup({ allowPrivate: false, allowedHosts: ['localhost'] }) } as ConstructorParameters<typeof Agent>[0])
    const status = await new Promise<number>((resolve, reject) => {
      get(`http://localhost:${port}/y`, { agent: open }, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      }).on('error', reject)
    })
    expect(status).toBe(200)
  })

  it('sends a request again on a fresh connection when the kept-alive socket it reused was closed unanswered', async () => {
    // The peer answers the first request on a connection and closes the connection, unanswered, at
    // the second: what a server that drops idle sockets does to a client that reuses one.
    const requestsOn = new WeakMap<object, number>()
    const connections = new Set<object>()
    const peer = createServer((req, res) => {
      const n = (requestsOn.get(req.socket) ?? 0) + 1
      requestsOn.set(req.socket, n)
      connections.add(req.socket)
      if (n > 1) {
        req.socket.destroy()
        return
      }
      res.end(`answer ${req.url}`)
    })
    await new Promise<void>((r) => peer.listen(0, '127.0.0.1', r))
    const peerPort = (peer.address() as AddressInfo).port
    const client = new GuardedHttpClient({ policy: { allowPrivate: true, allowedHosts: [] } })
    try {
      const first = await client.request(`http://127.0.0.1:${peerPort}/one`, { method: 'POST', body: 'a' })
      expect(first).toMatchObject({ status: 200 })
      const second = await client.request(`http://127.0.0.1:${peerPort}/two`, { method: 'POST', body: 'b' })
      expect({ status: second.status, body: second.body.toString() }).toEqual({ status: 200, body: 'answer /two' })
      expect(connections.size).toBe(2)
    } finally {
      client.close()
      peer.closeAllConnections()
      await new Promise<void>((r) => peer.close(() => r()))
    }
  })
})
