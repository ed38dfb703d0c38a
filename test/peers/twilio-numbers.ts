/**
 * A local Twilio for accounts, numbers and lookups: a real HTTP server speaking the REST shapes of
 * `POST /2010-04-01/Accounts.json` (a sub-account: `FriendlyName` → `{sid, auth_token, status…}`),
 * `GET /2010-04-01/Accounts/{sid}/AvailablePhoneNumbers/US/Local.json?AreaCode=…` (numbers on offer:
 * `{available_phone_numbers: [...]}`, capabilities as `{voice, SMS, MMS}`),
 * `POST|GET /2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json` (buy a number with `PhoneNumber`
 * and optional `SmsUrl`/`SmsMethod`; list the account's with `?PhoneNumber=`; capabilities
 * `{voice, sms, mms}`), `POST /2010-04-01/Accounts/{sid}/IncomingPhoneNumbers/{PN…}.json` (update a
 * number's `SmsUrl`/`SmsMethod`), and Lookup v2
 * `GET /v2/PhoneNumbers/{n}?Fields=line_type_intelligence`. Basic auth with the parent account's
 * sid and auth token, which act on its sub-accounts too (as Twilio's do); errors as Twilio's JSON
 * (`{code, message, more_info, status}`). Anything else is passed to `upstream` (the Messages peer,
 * test/peers/twilio.ts) when given, so one base URL serves both; a sub-account's Messages requests
 * go there rewritten to the parent account (that peer knows one account), counted in `subAccountMessages`.
 */
import { randomBytes } from 'node:crypto'
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { closeNow, listenLocal } from './listen.ts'

export interface NumbersPeerAccount {
  sid: string
  friendlyName: string
  /** The sub-account's own auth token: Twilio signs the webhooks of its numbers with it. */
  authToken: string
  numbers: Map<string, { sid: string; phoneNumber: string; smsUrl?: string; smsMethod?: string }>
}

export interface LookupAnswer {
  valid?: boolean
  type?: string | null
  carrier_name?: string | null
  mobile_country_code?: string | null
  mobile_network_code?: string | null
  error_code?: number | null
}

function twilioError(res: ServerResponse, status: number, code: number, message: string) {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }))
}

const NUMBERS_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/(AvailablePhoneNumbers\/US\/Local|IncomingPhoneNumbers)(?:\/(PN[0-9a-zA-Z]{32}))?\.json$/
const sid = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`

export class TwilioNumbersPeer {
  readonly accountSid: string
  readonly authToken: string
  readonly upstream: string | undefined
  readonly accounts = new Map<string, NumbersPeerAccount>()
  /** Numbers on offer per area code (default: +1AAA2000000 … +1AAA2000004). Bought ones leave the offer. */
  readonly offers = new Map<string, string[]>()
  /** Lookup answers per number (default: a mobile on "Peer Wireless"). */
  readonly lookups = new Map<string, LookupAnswer>()
  /** Requests per kind, for the tests' counts. */
  readonly counts = { accounts: 0, search: 0, buy: 0, list: 0, lookup: 0, update: 0 }
  /** Messages requests made to one of the sub-accounts (passed on to the Messages peer as the parent's). */
  subAccountMessages = 0
  /** Fail the next requests with this status (Twilio's 20500 or 20429). */
  failNext: { status: 500 | 429; times: number } | undefined
  url = ''
  #server: Server | undefined

  constructor(options: { accountSid?: string; authToken?: string; upstream?: string } = {}) {
    this.accountSid = options.accountSid ?? sid('AC')
    this.authToken = options.authToken ?? randomBytes(16).toString('hex')
    this.upstream = options.upstream
  }

  async start(): Promise<this> {
    this.#server = createServer((req, res) => void this.#handle(req, res).catch(() => twilioError(res, 500, 20500, 'peer error')))
    this.url = await listenLocal(this.#server)
    return this
  }

  async stop(): Promise<void> {
    if (this.#server) await closeNow(this.#server)
  }

  /** The numbers on offer in an area code. */
  offered(areaCode: string): string[] {
    let list = this.offers.get(areaCode)
    if (!list) {
      list = Array.from({ length: 5 }, (_, i) => `+1${areaCode}200000${i}`)
      this.offers.set(areaCode, list)
    }
    return list
  }

  async #body(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    return Buffer.concat(chunks)
  }

  #authorized(req: IncomingMessage): boolean {
    const auth = req.headers.authorization ?? ''
    const decoded = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString('utf8') : ''
    return decoded === `${this.accountSid}:${this.authToken}`
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://peer')
    const path = url.pathname
    const known = path === '/2010-04-01/Accounts.json' || NUMBERS_PATH.test(path) || path.startsWith('/v2/PhoneNumbers/')
    if (!known) {
      // A sub-account's Messages go to the Messages peer as the parent account's (it knows one account).
      const sub = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json/.exec(path)
      if (sub && this.accounts.has(sub[1]!)) {
        this.subAccountMessages++
        req.url = (req.url ?? '').replace(`/Accounts/${sub[1]}/`, `/Accounts/${this.accountSid}/`)
      }
      if (this.upstream) return this.#forward(req, res)
      return twilioError(res, 404, 20404, 'The requested resource was not found')
    }
    const body = await this.#body(req)
    if (!this.#authorized(req)) return twilioError(res, 401, 20003, 'Authenticate')
    if (this.failNext && this.failNext.times > 0) {
      this.failNext.times--
      return twilioError(res, this.failNext.status, this.failNext.status === 429 ? 20429 : 20500, 'peer told to fail')
    }
    const form = new URLSearchParams(body.toString('utf8'))
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(value))
    }
    if (path === '/2010-04-01/Accounts.json' && req.method === 'POST') {
      this.counts.accounts++
      const account: NumbersPeerAccount = { sid: sid('AC'), friendlyName: form.get('FriendlyName') ?? '', authToken: randomBytes(16).toString('hex'), numbers: new Map() }
      this.accounts.set(account.sid, account)
      return json(201, { sid: account.sid, friendly_name: account.friendlyName, auth_token: account.authToken, owner_account_sid: this.accountSid, status: 'active', type: 'Full' })
    }
    if (path.startsWith('/v2/PhoneNumbers/')) {
      this.counts.lookup++
      const number = decodeURIComponent(path.slice('/v2/PhoneNumbers/'.length))
      const a = this.lookups.get(number) ?? { type: 'mobile', carrier_name: 'Peer Wireless', mobile_country_code: '310', mobile_network_code: '120', error_code: null }
      const valid = a.valid ?? true
      return json(200, {
        calling_country_code: '1', country_code: 'US', phone_number: number, national_format: number, valid, validation_errors: valid ? [] : ['NOT_A_NUMBER'],
        line_type_intelligence: url.searchParams.get('Fields')?.includes('line_type_intelligence') && valid
          ? { carrier_name: a.carrier_name ?? null, mobile_country_code: a.mobile_country_code ?? null, mobile_network_code: a.mobile_network_code ?? null, type: a.type ?? null, error_code: a.error_code ?? null }
          : null,
        url: `https://lookups.twilio.com/v2/PhoneNumbers/${number}`,
      })
    }
    const m = NUMBERS_PATH.exec(path)!
    const account = this.accounts.get(m[1]!)
    if (!account) return twilioError(res, 404, 20404, `The requested resource /2010-04-01/Accounts/${m[1]} was not found`)
    const hooks = () => ({ ...(form.has('SmsUrl') ? { smsUrl: form.get('SmsUrl')! } : {}), ...(form.has('SmsMethod') ? { smsMethod: form.get('SmsMethod')! } : {}) })
    if (m[3] !== undefined) {
      const held = [...account.numbers.values()].find((n) => n.sid === m[3])
      if (!held || req.method !== 'POST' || m[2] !== 'IncomingPhoneNumbers') return twilioError(res, 404, 20404, `The requested resource ${path} was not found`)
      this.counts.update++
      Object.assign(held, hooks())
      return json(200, { sid: held.sid, account_sid: account.sid, phone_number: held.phoneNumber, sms_url: held.smsUrl ?? '', sms_method: held.smsMethod ?? 'POST', capabilities: { voice: true, sms: true, mms: true, fax: false } })
    }
    if (m[2] === 'AvailablePhoneNumbers/US/Local') {
      this.counts.search++
      const area = url.searchParams.get('AreaCode') ?? ''
      const list = /^\d{3}$/.test(area) ? this.offered(area) : []
      return json(200, {
        uri: `${path}?${url.searchParams.toString()}`,
        available_phone_numbers: list.map((n) => ({
          friendly_name: `(${n.slice(2, 5)}) ${n.slice(5, 8)}-${n.slice(8)}`, phone_number: n, lata: '722', rate_center: 'PEERVILLE', latitude: '37.780000', longitude: '-122.420000',
          locality: 'Peerville', region: 'CA', postal_code: '94103', iso_country: 'US', address_requirements: 'none', beta: false, capabilities: { voice: true, SMS: true, MMS: true },
        })),
      })
    }
    if (req.method === 'POST') {
      this.counts.buy++
      const phone = form.get('PhoneNumber') ?? ''
      const area = phone.slice(2, 5)
      const offer = this.offered(area)
      if (!offer.includes(phone)) return twilioError(res, 400, 21422, `PhoneNumber ${phone} is not available`)
      this.offers.set(area, offer.filter((n) => n !== phone))
      const number = { sid: sid('PN'), phoneNumber: phone, ...hooks() }
      account.numbers.set(phone, number)
      return json(201, { sid: number.sid, account_sid: account.sid, phone_number: phone, friendly_name: phone, sms_url: number.smsUrl ?? '', sms_method: number.smsMethod ?? 'POST', capabilities: { voice: true, sms: true, mms: true, fax: false }, status: 'in-use' })
    }
    this.counts.list++
    const wanted = url.searchParams.get('PhoneNumber')
    const held = [...account.numbers.values()].filter((n) => wanted === null || n.phoneNumber === wanted)
    return json(200, {
      incoming_phone_numbers: held.map((n) => ({ sid: n.sid, account_sid: account.sid, phone_number: n.phoneNumber, capabilities: { voice: true, sms: true, mms: true, fax: false } })),
      page: 0, page_size: 50, next_page_uri: null,
    })
  }

  /** Pass a request on to the upstream peer as it came. */
  #forward(req: IncomingMessage, res: ServerResponse): void {
    const target = new URL(req.url ?? '/', this.upstream)
    const out = request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    out.on('error', () => twilioError(res, 502, 20500, 'upstream peer unreachable'))
    req.pipe(out)
  }
}
