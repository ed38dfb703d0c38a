import type { Thread } from './threads.schema.ts'

/**
 * Threads every tenant has without loading anything: they ask for an identifier and store it on
 * the person (spec/cass.md, "Bot content"). external_id never changes once set, so STORE_EXT_ID
 * says so instead of asking when the person has one.
 */
export const BUILTIN_THREADS: Readonly<Record<string, Thread>> = {
  STORE_EXT_ID: {
    description: 'Ask for the person’s ID and store it as external_id',
    steps: [{
      ask: 'Please reply with your ID.',
      store: { field: 'external_id' },
      if_set: 'Your ID is already on file (<<EXTERNAL_ID>>). It can’t be changed here, but thank you!',
      confirm: 'Thank you, your ID <<EXTERNAL_ID>> is saved.',
    }],
  },
  STORE_EXT_UN: {
    description: 'Ask for the person’s username and store it as external_username',
    steps: [{ ask: 'Please reply with your username.', store: { field: 'external_username' }, confirm: 'Thank you, your username <<EXTERNAL_USERNAME>> is saved.' }],
  },
  STORE_EXT_ORG: {
    description: 'Ask for the person’s organization and store it as external_org',
    steps: [{ ask: 'Please reply with the name of your organization.', store: { field: 'external_org' }, confirm: 'Thank you, your organization <<EXTERNAL_ORG>> is saved.' }],
  },
}

export const BUILTIN_THREAD_NAMES: readonly string[] = Object.keys(BUILTIN_THREADS)
