-- Bulk messages and bulk attachments of the messaging API (spec/courier.md #36–#43).

-- A bulk message: one text (plain and per locale) to many individuals (listed, and members of
-- listed individual groups), posted into each one's channel by a resumable job.
CREATE TABLE msg_bulk_messages (
  id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id                   uuid NOT NULL,
  organization_id             uuid NOT NULL,
  -- The user (user token) or the organisation (API key) that created it.
  created_by                  uuid NOT NULL,
  draft                       boolean NOT NULL DEFAULT false,
  message                     text NOT NULL DEFAULT '',
  message_js                  jsonb NOT NULL DEFAULT '{}',
  -- As given (Cass person ids and group ids), for reading back.
  individual_ids              jsonb NOT NULL DEFAULT '[]',
  individual_group_ids        jsonb NOT NULL DEFAULT '[]',
  sender_individual_id        uuid,
  sender_individual_group_id  uuid,
  auto_ack                    text NOT NULL DEFAULT '',
  auto_create_channel         boolean NOT NULL DEFAULT false,
  -- draft → sending (recipients fixed, job enqueued) → posted (every recipient posted or skipped).
  state                       text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'sending', 'posted')),
  sending_at                  timestamptz,
  posted_at                   timestamptz,
  created_at                  timestamptz NOT NULL DEFAULT clock_timestamp(),
  last_modified_at            timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id)
);
CREATE INDEX msg_bulk_messages_tenant ON msg_bulk_messages (tenant_id, created_at DESC);

-- One row per recipient, written when the bulk message is posted: the job's worklist and its
-- idempotency key. A recipient becomes `posted` in the same transaction as its message, so a
-- restarted or concurrent run never posts twice and never skips one.
CREATE TABLE msg_bulk_recipients (
  tenant_id        uuid NOT NULL,
  bulk_message_id  uuid NOT NULL,
  person_id        uuid NOT NULL,
  position         integer NOT NULL,
  state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'posted', 'skipped')),
  reason           text,
  channel_id       uuid,
  message_id       uuid,
  done_at          timestamptz,
  PRIMARY KEY (tenant_id, bulk_message_id, person_id),
  FOREIGN KEY (tenant_id, bulk_message_id) REFERENCES msg_bulk_messages (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX msg_bulk_recipients_pending ON msg_bulk_recipients (tenant_id, bulk_message_id, position) WHERE state = 'pending';

-- A file of a bulk message, uploaded in the two steps of messaging attachments; every message the
-- bulk message posts gets an attachment sharing its stored bytes.
CREATE TABLE msg_bulk_attachments (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        uuid NOT NULL,
  bulk_message_id  uuid NOT NULL,
  content_type     text NOT NULL,
  filename         text NOT NULL DEFAULT '',
  declared_size    bigint,
  content_size     bigint NOT NULL DEFAULT 0,
  file_key         text NOT NULL,
  thumbnail_key    text,
  processed_at     timestamptz,
  created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
  last_modified_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, bulk_message_id) REFERENCES msg_bulk_messages (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX msg_bulk_attachments_bulk ON msg_bulk_attachments (tenant_id, bulk_message_id, created_at);
-- Removing one message's copy must not delete bytes other copies share.
CREATE INDEX msg_attachments_file_key ON msg_attachments (file_key);
