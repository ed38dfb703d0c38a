export { PeopleService } from './people.service.ts'
export { PROTOCOLS } from './people.types.ts'
export type { Person, Protocol, CreatePersonInput, UpdatePersonInput, PersonFields, PersonRef } from './people.types.ts'
