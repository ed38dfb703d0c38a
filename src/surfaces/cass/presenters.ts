import type { Person } from '../../core/people/index.ts'
import type { QueuedNotification } from '../../core/scheduling/index.ts'
import { formatPythonUtc } from './python-time.ts'

/** The answer of a create call: `person_id` is the legacy integer unless the UUID was asked for. */
export function presentCreated(person: Person, created: boolean, opts: { uuid: boolean; legacyTexts: boolean }) {
  return {
    existing_person: !created,
    person_id: opts.uuid ? person.cassId : person.legacyId,
    external_id: person.externalId,
    phone: person.phone,
    message: created ? 'New person created' : opts.legacyTexts ? 'Existing person found already' : 'Existing person found',
  }
}

/** `GET /external_person/{person_id}`. */
export function presentPerson(p: Person) {
  return {
    person_id: p.cassId,
    phone: p.phone,
    external_id: p.externalId,
    external_username: p.externalUsername,
    external_org: p.externalOrg,
    external_data_1: p.externalData1,
    external_data_2: p.externalData2,
    external_data_3: p.externalData3,
    first_name: p.firstName,
    last_name: p.lastName,
    protocol: p.protocol,
    language_type: p.languageType,
    gender: p.gender,
    timezone: p.timezone,
  }
}

/** A queued notification as the Cass Notification API shows it. */
export function presentNotification(n: QueuedNotification) {
  return { type: n.type, schedule: formatPythonUtc(n.dueAtMicros), thread_name: n.threadName }
}
