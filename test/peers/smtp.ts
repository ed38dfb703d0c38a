import type { AddressInfo } from 'node:net'
import { simpleParser, type ParsedMail } from 'mailparser'
import { SMTPServer } from 'smtp-server'
import { selfSignedCertificate } from './tls.ts'

/** One mail the peer accepted, parsed. */
export interface ReceivedMail {
  envelope: { from: string; to: string[] }
  mail: ParsedMail
}

/**
 * A local SMTP server (the `smtp-server` library) with STARTTLS on a self-signed certificate and
 * AUTH PLAIN/LOGIN: it refuses recipients `reject@…` with 550 and `later@…` with 451 (temporary),
 * wrong credentials with 535, and parses every accepted message with `mailparser`.
 */
export class SmtpPeer {
  readonly cert = selfSignedCertificate()
  readonly mails: ReceivedMail[] = []
  connections = 0
  port = 0
  readonly #server: SMTPServer
  readonly user: string
  readonly pass: string

  constructor(user: string, pass: string) {
    this.user = user
    this.pass = pass
    this.#server = new SMTPServer({
      key: this.cert.key, cert: this.cert.cert,
      authMethods: ['PLAIN', 'LOGIN'],
      // Credentials only over TLS, as real submission servers insist.
      allowInsecureAuth: false,
      logger: false,
      onConnect: (_session, cb) => {
        this.connections++
        cb()
      },
      onAuth: (auth, _session, cb) => (auth.username === this.user && auth.password === this.pass
        ? cb(null, { user: auth.username })
        : cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }))),
      onRcptTo: (address, _session, cb) => {
        if (address.address.startsWith('reject@')) return cb(Object.assign(new Error('5.1.1 No such user'), { responseCode: 550 }))
        if (address.address.startsWith('later@')) return cb(Object.assign(new Error('4.2.1 Mailbox busy, try later'), { responseCode: 451 }))
        cb()
      },
      onData: (stream, session, cb) => {
        simpleParser(stream).then((mail) => {
          this.mails.push({ envelope: { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address) }, mail })
          cb()
        }, cb)
      },
    })
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    this.port = (this.#server.server.address() as AddressInfo).port
    return this
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}
