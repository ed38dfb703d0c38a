/**
 * Call statuses (spec §4.1) the contact center's shared session handlers need to know: a call in
 * one of these takes no more updates (C5–C8, CD1 answer "Call is already ended"). Defined here, not
 * in `core/calls` (which builds on this domain), so the shared handlers need no import back.
 */
export const CALL_CLOSED_STATUSES: ReadonlySet<string> = new Set(['finished', 'failed', 'recovered', 'action_only_finished', 'voicemail', 'voicemail_received', 'voicemail_read'])
