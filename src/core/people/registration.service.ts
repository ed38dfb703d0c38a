import type { Tenant } from '../tenants/index.ts'
import type { PeopleService } from './people.service.ts'
import type { CreatePersonInput, Person } from './people.types.ts'

/**
 * What registration needs of the bot (`BotService` is one): check a thread before anyone is
 * created, and send a person into it. A port, so the people domain does not import the bot, which
 * reads people.
 */
export interface RegistrationBot {
  /** Throws ValidationError `thread_not_found` (and the other ping checks) without writing. */
  checkPing(tenant: Tenant, input: { threadName: string }): Promise<unknown>
  ping(tenant: Tenant, input: { personRef: string; threadName: string; wait: false }): Promise<unknown>
}

export interface RegisterPersonInput extends CreatePersonInput {
  /** A thread to send the person into; checked before anything is written. Empty means none. */
  initialThreadName?: string
  /** Send the person into `initialThreadName` now (delivered in the background), new or existing. */
  ping?: boolean
}

/**
 * Registering a person from outside (the Cass create endpoints): validate, check the initial thread,
 * create or find the person, and ping them into the thread when asked.
 */
export class PersonRegistration {
  readonly #people: PeopleService
  readonly #bot: RegistrationBot

  constructor(deps: { people: PeopleService; bot: RegistrationBot }) {
    this.#people = deps.people
    this.#bot = deps.bot
  }

  /**
   * Create the person, or find the tenant's existing one with this phone or external id
   * (`created: false`). A refused input or an unknown thread writes nothing: the input is validated
   * and the thread checked before the person is created. Throws the errors of
   * `PeopleService.validateNew` and `create`, and of `BotService.checkPing`/`ping`.
   */
  async register(tenant: Tenant, input: RegisterPersonInput): Promise<{ person: Person; created: boolean }> {
    const { initialThreadName, ping, ...fields } = input
    const thread = initialThreadName !== undefined && initialThreadName !== '' ? initialThreadName : undefined
    // Bad input is refused before the thread is checked (`create` validates too, so without a
    // thread once is enough: parsing the phone is a good part of a create's CPU time).
    if (thread !== undefined) {
      this.#people.validateNew(fields)
      await this.#bot.checkPing(tenant, { threadName: thread })
    }
    const { person, created } = await this.#people.create(tenant, fields)
    // "The ping functionality works regardless of whether or not the person was previously
    // registered": new and existing people alike enter the thread.
    if (thread !== undefined && ping === true) await this.#bot.ping(tenant, { personRef: person.cassId, threadName: thread, wait: false })
    return { person, created }
  }
}
