-- Messaging operations (spec/courier.md #63–#65) and the expiry of pending attachment uploads.

-- An operation: an asynchronous administrative job over messaging data (`move-group` moves a care
-- team's channels, with their messages, to another care team), polled for `status` and `logs`.
CREATE TABLE msg_operations (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  organization_id   uuid NOT NULL,
  type              text NOT NULL CHECK (type IN ('move-group')),
  args              jsonb NOT NULL DEFAULT '{}'::jsonb,
  status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'completed', 'failed')),
  -- `{entries: [{time, level, message}], …counters}`: what the run did, appended as it goes.
  logs              jsonb NOT NULL DEFAULT '{"entries": []}'::jsonb,
  -- The user of a user token, or the organisation's id for the organisation key.
  created_by        uuid NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
  last_modified_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  UNIQUE (tenant_id, id)
);
CREATE INDEX msg_operations_org ON msg_operations (tenant_id, organization_id, created_at DESC);

-- When a pending attachment's upload ticket expires; the cleanup job removes pending attachments
-- (rows and stored bytes) a grace period after it. Older pending rows get a day from creation.
ALTER TABLE msg_attachments ADD COLUMN upload_expires_at timestamptz;
UPDATE msg_attachments SET upload_expires_at = created_at + interval '1 day' WHERE processed_at IS NULL;
CREATE INDEX msg_attachments_pending ON msg_attachments (upload_expires_at) WHERE processed_at IS NULL;
ALTER TABLE msg_bulk_attachments ADD COLUMN upload_expires_at timestamptz;
UPDATE msg_bulk_attachments SET upload_expires_at = created_at + interval '1 day' WHERE processed_at IS NULL;
CREATE INDEX msg_bulk_attachments_pending ON msg_bulk_attachments (upload_expires_at) WHERE processed_at IS NULL;
