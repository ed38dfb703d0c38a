-- Messaging channels in people's timelines, and a channel's SMS path (spec/courier.md #51).

-- When the SMS path was last switched on: each activation sends its first message once per person.
ALTER TABLE msg_channels ADD COLUMN sms_activated_at timestamptz;

-- A message that came in by SMS (a reply on a channel's SMS path): its inbound message, once.
ALTER TABLE msg_messages ADD COLUMN inbound_message_id uuid REFERENCES inbound_messages (id) ON DELETE SET NULL;
CREATE UNIQUE INDEX msg_messages_inbound ON msg_messages (inbound_message_id) WHERE inbound_message_id IS NOT NULL;

-- What a channel's SMS path queued for a person: one SMS per channel message, the first of an
-- activation led by the initial message (`initial`). Replies go to the channel that texted the phone last.
CREATE TABLE msg_channel_sms (
  outbox_message_id  uuid PRIMARY KEY REFERENCES outbox_messages (id) ON DELETE CASCADE,
  tenant_id          uuid NOT NULL,
  channel_id         uuid NOT NULL,
  person_id          uuid NOT NULL,
  message_id         uuid NOT NULL,
  initial            boolean NOT NULL DEFAULT false,
  created_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
  FOREIGN KEY (tenant_id, channel_id) REFERENCES msg_channels (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, person_id) REFERENCES people (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX msg_channel_sms_person ON msg_channel_sms (tenant_id, person_id, created_at DESC);
CREATE INDEX msg_channel_sms_channel ON msg_channel_sms (tenant_id, channel_id, person_id);
-- The authors' messages of a person's timeline.
CREATE INDEX msg_messages_author ON msg_messages (tenant_id, author_id) WHERE author_id IS NOT NULL;

-- The transcript (migrations/0004) gains the messaging channels: a posted message (not a draft,
-- not removed) is in each participant's timeline — `in` for its author, `out` for every other
-- subscriber — on channel `messaging`. The SMS that carried a channel message to a person, and an
-- SMS reply that became a channel message, are that message already: they are not repeated.
CREATE OR REPLACE VIEW transcript AS
SELECT
  m.id AS message_id, i.public_id AS person_id, m.person_id AS core_person_id, m.tenant_id, t.name AS client_name,
  m.direction, m.channel, m.text, m.thread_name, m.step, m.conversation_id, m.created_at, m.seq AS sort_key
FROM transcript_messages m
JOIN tenants t ON t.id = m.tenant_id
LEFT JOIN person_identities i ON i.person_id = m.person_id AND i.surface = 'cass'
UNION ALL
SELECT
  o.id, i.public_id, o.person_id, o.tenant_id, t.name,
  'out', o.channel, o.body, NULL, NULL, NULL, o.created_at, NULL
FROM outbox_messages o
JOIN tenants t ON t.id = o.tenant_id
LEFT JOIN person_identities i ON i.person_id = o.person_id AND i.surface = 'cass'
WHERE o.person_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM transcript_messages m WHERE m.outbox_message_id = o.id)
  AND NOT EXISTS (SELECT 1 FROM msg_channel_sms c WHERE c.outbox_message_id = o.id)
UNION ALL
SELECT
  n.id, i.public_id, n.person_id, n.tenant_id, t.name,
  'in', n.channel, n.body, NULL, NULL, NULL, n.received_at, NULL
FROM inbound_messages n
JOIN tenants t ON t.id = n.tenant_id
LEFT JOIN person_identities i ON i.person_id = n.person_id AND i.surface = 'cass'
WHERE n.person_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM transcript_messages m WHERE m.inbound_message_id = n.id)
  AND NOT EXISTS (SELECT 1 FROM msg_messages c WHERE c.inbound_message_id = n.id)
UNION ALL
SELECT
  c.id, i.public_id, c.author_id, c.tenant_id, t.name,
  'in', 'messaging', c.message, NULL, NULL, NULL, c.posted_at, c.seq
FROM msg_messages c
JOIN tenants t ON t.id = c.tenant_id
LEFT JOIN person_identities i ON i.person_id = c.author_id AND i.surface = 'cass'
WHERE c.author_id IS NOT NULL AND NOT c.draft AND NOT c.removed
UNION ALL
SELECT
  c.id, i.public_id, s.individual_id, c.tenant_id, t.name,
  'out', 'messaging', c.message, NULL, NULL, NULL, c.posted_at, c.seq
FROM msg_messages c
JOIN msg_channel_subscribers s ON s.tenant_id = c.tenant_id AND s.channel_id = c.channel_id
JOIN tenants t ON t.id = c.tenant_id
LEFT JOIN person_identities i ON i.person_id = s.individual_id AND i.surface = 'cass'
WHERE NOT c.draft AND NOT c.removed AND (c.author_id IS NULL OR s.individual_id <> c.author_id);
