-- User emails (#125–#128) and their attachments (#121–#124) of spec/courier.md.

-- An e-mail sent on behalf of an organisation about an individual: a draft until sent (at once with
-- `auto-send`, or by `send`), then one outbox message per recipient (`outbox_ids`), whose delivery
-- status the email's `status` and `result` are read from.
CREATE TABLE user_emails (
  id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id               uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  person_id               uuid NOT NULL,
  sender_organization_id  uuid NOT NULL,
  -- The organisation's id (API key) or the care-team user's id (user token) that created it.
  created_by              uuid NOT NULL,
  recipients              text[] NOT NULL,
  subject                 text NOT NULL,
  message                 text NOT NULL DEFAULT '',
  message_html            text NOT NULL DEFAULT '',
  -- Set when sent: the send's task id and its outbox messages, in the order of `recipients`.
  task_id                 uuid,
  outbox_ids              uuid[],
  sent_at                 timestamptz,
  created_at              timestamptz NOT NULL DEFAULT clock_timestamp(),
  last_modified_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, person_id) REFERENCES people (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX user_emails_person ON user_emails (tenant_id, person_id, created_at);

-- A file of a user email: created pending with an upload ticket, ready once processed; sent with
-- the email (the ready ones, when it is sent).
CREATE TABLE user_email_attachments (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        uuid NOT NULL,
  email_id         uuid NOT NULL,
  content_type     text NOT NULL,
  filename         text NOT NULL DEFAULT '',
  content_size     bigint NOT NULL DEFAULT 0,
  -- Key in core's file store (`<tenant>/user-email-attachment/<uuid>…`).
  file_key         text NOT NULL,
  upload_expires_at timestamptz NOT NULL,
  processed_at     timestamptz,
  created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, email_id) REFERENCES user_emails (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX user_email_attachments_email ON user_email_attachments (tenant_id, email_id, created_at);
