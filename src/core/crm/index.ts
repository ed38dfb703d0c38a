export { TicketsService, syncSetupTickets, checkTicketId, ticketValues, TICKET_ID_PATTERN, MAX_SUBJECT, MAX_CONTACT_NAME, MAX_CONTACT_ID } from './tickets.service.ts'
export type { TicketInput, ContactInput } from './tickets.service.ts'
export type { CrmAdapter, CrmTicket, CrmContact, StoredTicket, ContactUpdate } from './crm.types.ts'
