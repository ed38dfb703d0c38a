-- The bot: versioned thread content, conversations, the transcript, and the scheduled
-- notifications (check-ins and autopings) the bot records for the scheduler to fire.

-- Every load of a tenant's thread file is a new version; the highest version is current. A
-- conversation keeps the version it started on, so a new load never changes a running script.
CREATE TABLE bot_thread_versions (
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  version     integer NOT NULL CHECK (version >= 1),
  -- The validated, normalised document (`{threads: {name: {steps: [...]}}, default_thread}`).
  document    jsonb NOT NULL,
  -- The file as loaded (YAML or JSON), for audit and download.
  source      text NOT NULL,
  format      text NOT NULL CHECK (format IN ('yaml', 'json')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, version)
);

-- bot_threads (0001) stays the tenant's *current* threads by name, one row each, rewritten on every
-- load; `version` says which load they come from (NULL for rows written before versioning).
ALTER TABLE bot_threads ADD COLUMN version integer;

-- A person's conversation with the bot: where they are in which thread of which content version.
CREATE TABLE conversations (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id       uuid NOT NULL,
  person_id       uuid NOT NULL,
  thread_name     text NOT NULL,
  thread_version  integer NOT NULL CHECK (thread_version >= 0),
  -- Index of the current step in the thread's steps.
  step            integer NOT NULL DEFAULT 0 CHECK (step >= 0),
  -- Conversation variables (`store: {var}`, choice `set`), and the ping's placeholders.
  variables       jsonb NOT NULL DEFAULT '{}'::jsonb,
  placeholders    jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- active: waiting for the person or running; ended: finished; replaced: a new ping took over.
  status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended', 'replaced')),
  -- What the current step waits for: nothing, a choice, or free text.
  awaiting        text NOT NULL DEFAULT 'none' CHECK (awaiting IN ('none', 'choice', 'text')),
  -- Re-prompts already sent for the current ask.
  reprompts       integer NOT NULL DEFAULT 0,
  -- Thread to continue into when this one finishes (ping `next_thread_name`).
  then_thread     text,
  -- Re-engagement rule `{after, thread}` set by an `autoping` step; NULL for none.
  autoping        jsonb,
  -- Outbound messages sent so far: the next message's idempotency key is `bot:<id>:<seq>`.
  seq             integer NOT NULL DEFAULT 0,
  -- Who started it: ping, inbound (default thread), checkin, autoping, web...
  started_by      text NOT NULL,
  -- A caller's key for the start (a fired check-in): starting twice with one key starts once.
  start_key       text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  ended_at        timestamptz,
  FOREIGN KEY (tenant_id, person_id) REFERENCES people (tenant_id, id) ON DELETE CASCADE
);
-- At most one running conversation per person.
CREATE UNIQUE INDEX conversations_one_active ON conversations (tenant_id, person_id) WHERE status = 'active';
CREATE UNIQUE INDEX conversations_start_key ON conversations (tenant_id, start_key) WHERE start_key IS NOT NULL;
CREATE INDEX conversations_person ON conversations (tenant_id, person_id, created_at DESC);

-- Every bot message in and out, with its bot context. `seq` orders messages written in one
-- transaction (their created_at is the transaction's time).
CREATE TABLE transcript_messages (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  seq                  bigint GENERATED ALWAYS AS IDENTITY,
  tenant_id            uuid NOT NULL,
  person_id            uuid NOT NULL,
  direction            text NOT NULL CHECK (direction IN ('in', 'out')),
  channel              text NOT NULL,
  text                 text NOT NULL,
  conversation_id      uuid REFERENCES conversations (id) ON DELETE SET NULL,
  thread_name          text,
  step                 integer,
  -- The outbox row of an outbound message, the inbound row of a received one.
  outbox_message_id    uuid REFERENCES outbox_messages (id) ON DELETE SET NULL,
  inbound_message_id   uuid REFERENCES inbound_messages (id) ON DELETE SET NULL,
  created_at           timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (tenant_id, person_id) REFERENCES people (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX transcript_messages_person ON transcript_messages (tenant_id, person_id, seq);
CREATE UNIQUE INDEX transcript_messages_outbox ON transcript_messages (outbox_message_id) WHERE outbox_message_id IS NOT NULL;
-- The inbound handler is retried; one transcript row per inbound message is how it stays idempotent.
CREATE UNIQUE INDEX transcript_messages_inbound ON transcript_messages (inbound_message_id) WHERE inbound_message_id IS NOT NULL;

-- Check-ins and autopings the bot scheduled: the scheduler fires due `pending` rows.
CREATE TABLE scheduled_notifications (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        uuid NOT NULL,
  person_id        uuid NOT NULL,
  type             text NOT NULL CHECK (type IN ('checkin', 'autoping')),
  thread_name      text NOT NULL,
  due_at           timestamptz NOT NULL,
  -- pending: waiting for due_at; fired: sent (or queued for a web person); cancelled: superseded.
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'fired', 'cancelled')),
  -- The conversation that scheduled it (autopings are replaced per conversation).
  conversation_id  uuid REFERENCES conversations (id) ON DELETE SET NULL,
  idempotency_key  text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 300),
  created_at       timestamptz NOT NULL DEFAULT now(),
  fired_at         timestamptz,
  UNIQUE (tenant_id, idempotency_key),
  FOREIGN KEY (tenant_id, person_id) REFERENCES people (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX scheduled_notifications_due ON scheduled_notifications (due_at) WHERE status = 'pending';
CREATE INDEX scheduled_notifications_person ON scheduled_notifications (tenant_id, person_id, due_at);
CREATE INDEX scheduled_notifications_conversation ON scheduled_notifications (conversation_id) WHERE status = 'pending';

-- Stable relation for SQL readers: one row per message a person sent or was sent, on any channel.
-- Bot messages carry their thread and step; other messages (a test send, a provider webhook not
-- yet handled by the bot) come straight from the outbox and the inbound messages.
CREATE VIEW transcript AS
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
UNION ALL
SELECT
  n.id, i.public_id, n.person_id, n.tenant_id, t.name,
  'in', n.channel, n.body, NULL, NULL, NULL, n.received_at, NULL
FROM inbound_messages n
JOIN tenants t ON t.id = n.tenant_id
LEFT JOIN person_identities i ON i.person_id = n.person_id AND i.surface = 'cass'
WHERE n.person_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM transcript_messages m WHERE m.inbound_message_id = n.id);
