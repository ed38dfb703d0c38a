-- Jobs and delivery: our idempotency ledger for queued jobs, the outbox of every outbound message,
-- and the inbound messages people send back. The queue itself (pg-boss) installs and migrates its
-- own schema (`pgboss`) when it starts.

-- One row per idempotency key a job was enqueued with. The primary key is what makes a duplicate
-- enqueue a no-op (DESIGN.md: "idempotency enforced by our own unique keys, not only by the
-- queue's singleton options"); the worker checks the row before acting and records each failed
-- attempt, and the dead-letter worker records the final error.
CREATE TABLE job_keys (
  queue        text NOT NULL,
  key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 500),
  job_id       uuid NOT NULL UNIQUE,
  -- The tenant the job acts for; NULL for system jobs (maintenance).
  tenant_id    uuid REFERENCES tenants (id) ON DELETE CASCADE,
  state        text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'retrying', 'completed', 'dead')),
  attempts     integer NOT NULL DEFAULT 0,
  last_error   text,
  run_at       timestamptz NOT NULL DEFAULT now(),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  PRIMARY KEY (queue, key)
);
CREATE INDEX job_keys_tenant ON job_keys (tenant_id) WHERE tenant_id IS NOT NULL;
CREATE INDEX job_keys_finished ON job_keys (finished_at) WHERE state = 'completed';
CREATE INDEX job_keys_dead ON job_keys (queue, updated_at) WHERE state = 'dead';

-- Every outbound message of any channel: written (with its delivery job) in the transaction that
-- decides to send it, then handed to the tenant's provider for the channel by a worker.
CREATE TABLE outbox_messages (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id            uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  channel              text NOT NULL CHECK (channel IN ('sms', 'whatsapp', 'messenger', 'email', 'push', 'webchat', 'voice')),
  person_id            uuid,
  -- E.164 phone (sms, whatsapp, voice), e-mail address, device token, page-scoped id, chat session.
  recipient            text NOT NULL CHECK (length(recipient) BETWEEN 1 AND 500),
  sender               text,
  subject              text,
  body                 text NOT NULL,
  -- Channel extras (HTML part, push data, media URLs); never credentials.
  payload              jsonb NOT NULL DEFAULT '{}'::jsonb,
  idempotency_key      text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 200),
  status               text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'failed')),
  provider             text,
  provider_message_id  text,
  attempts             integer NOT NULL DEFAULT 0,
  last_error           text,
  send_at              timestamptz NOT NULL DEFAULT now(),
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  sent_at              timestamptz,
  UNIQUE (tenant_id, idempotency_key),
  -- Deleting a person keeps the record of what was sent to them.
  FOREIGN KEY (tenant_id, person_id) REFERENCES people (tenant_id, id) ON DELETE SET NULL (person_id)
);
CREATE INDEX outbox_messages_tenant_newest ON outbox_messages (tenant_id, created_at DESC, id DESC);
CREATE INDEX outbox_messages_person ON outbox_messages (tenant_id, person_id) WHERE person_id IS NOT NULL;

-- Messages people send in, on any channel (provider webhooks, the sandbox's "answer as the
-- person"). The person is resolved by phone or address within the tenant when one matches.
CREATE TABLE inbound_messages (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id            uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  channel              text NOT NULL CHECK (channel IN ('sms', 'whatsapp', 'messenger', 'email', 'push', 'webchat', 'voice')),
  person_id            uuid,
  sender               text NOT NULL CHECK (length(sender) BETWEEN 1 AND 500),
  recipient            text,
  body                 text NOT NULL,
  payload              jsonb NOT NULL DEFAULT '{}'::jsonb,
  provider             text NOT NULL,
  provider_message_id  text,
  -- received: stored, its handlers not yet run; processed: every inbound handler ran.
  status               text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processed')),
  received_at          timestamptz NOT NULL DEFAULT now(),
  processed_at         timestamptz,
  FOREIGN KEY (tenant_id, person_id) REFERENCES people (tenant_id, id) ON DELETE SET NULL (person_id)
);
CREATE INDEX inbound_messages_tenant_newest ON inbound_messages (tenant_id, received_at DESC, id DESC);
CREATE INDEX inbound_messages_person ON inbound_messages (tenant_id, person_id) WHERE person_id IS NOT NULL;
-- A provider that re-posts a webhook must not create the message twice.
CREATE UNIQUE INDEX inbound_messages_provider_id ON inbound_messages (tenant_id, provider, provider_message_id) WHERE provider_message_id IS NOT NULL;
