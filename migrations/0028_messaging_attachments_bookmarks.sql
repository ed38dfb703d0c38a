-- Messaging attachments and bookmarks (spec/courier.md #28–#35).

-- An attachment of a message: created pending with an upload ticket, processed once its bytes are
-- in the file store (sniffed, sized, thumbnailed), soft-removed (the row stays, the bytes go).
CREATE TABLE msg_attachments (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id       uuid NOT NULL,
  message_id      uuid NOT NULL,
  -- The declared media type (normalised) and name; the size once processed.
  content_type    text NOT NULL,
  filename        text NOT NULL DEFAULT '',
  declared_size   bigint,
  content_size    bigint NOT NULL DEFAULT 0,
  -- Keys in core's file store (`<tenant>/messaging-attachment/<uuid>…`).
  file_key        text NOT NULL,
  thumbnail_key   text,
  -- Who created it: an individual (core person), or null for the organisation.
  created_by      uuid,
  processed_at    timestamptz,
  removed         boolean NOT NULL DEFAULT false,
  created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
  last_modified_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, message_id) REFERENCES msg_messages (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX msg_attachments_message ON msg_attachments (tenant_id, message_id, created_at);

-- A bookmark pins a message of a channel; the channel's newest one is its current bookmark.
CREATE TABLE msg_bookmarks (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        uuid NOT NULL,
  organization_id  uuid NOT NULL,
  channel_id       uuid NOT NULL,
  message_id       uuid NOT NULL,
  -- An individual's id (Cass person id), or the organisation's when the organisation key made it.
  created_by       uuid NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, channel_id) REFERENCES msg_channels (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, message_id) REFERENCES msg_messages (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX msg_bookmarks_channel ON msg_bookmarks (tenant_id, channel_id, created_at DESC);
CREATE INDEX msg_bookmarks_organization ON msg_bookmarks (tenant_id, organization_id, created_at DESC);
