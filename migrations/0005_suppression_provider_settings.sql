-- One suppression list, tenant provider settings, and the `suppressed` outcome of an outbox message.

-- Addresses a tenant must not send to, per channel scope: E.164 phones (sms, whatsapp, voice),
-- lower-cased e-mail addresses, device tokens or page-scoped ids. `all` suppresses the address on
-- every channel that reaches it (a contact-center DNC, say). A STOP reply, a DNC entry and a
-- withdrawn consent all land here; every send checks it before anything leaves.
CREATE TABLE suppressions (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  scope       text NOT NULL CHECK (scope IN ('sms', 'whatsapp', 'messenger', 'email', 'push', 'webchat', 'voice', 'all')),
  address     text NOT NULL CHECK (length(address) BETWEEN 1 AND 500),
  reason      text NOT NULL CHECK (reason IN ('stop_keyword', 'dnc', 'consent_withdrawn', 'manual')),
  -- Who or what added it: `inbound:<message id>`, `admin-api`, `cli`, a surface's name.
  source      text NOT NULL CHECK (length(source) BETWEEN 1 AND 200),
  created_at  timestamptz NOT NULL DEFAULT now(),
  -- (tenant, address) first: the send path asks "is this address suppressed on this channel or all".
  UNIQUE (tenant_id, address, scope)
);
CREATE INDEX suppressions_tenant_newest ON suppressions (tenant_id, created_at DESC, id DESC);

-- The vendor a tenant uses on a channel and its options (credentials included), sealed with
-- AES-256-GCM under the master key: a database dump does not leak them. No row: the sandbox.
CREATE TABLE tenant_provider_settings (
  tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  channel          text NOT NULL CHECK (channel IN ('sms', 'whatsapp', 'messenger', 'email', 'push', 'webchat', 'voice')),
  vendor           text NOT NULL CHECK (vendor ~ '^[a-z][a-z0-9_-]{0,49}$'),
  sealed_settings  text NOT NULL,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, channel)
);

-- A message to a suppressed recipient is not sent: it ends `suppressed`, with the reason.
-- The status list is the whole lifecycle of issue 4 (queued → sending → sent → delivered |
-- undelivered | failed, or suppressed), so migrations of that issue agree whichever runs first.
ALTER TABLE outbox_messages DROP CONSTRAINT IF EXISTS outbox_messages_status_check;
ALTER TABLE outbox_messages ADD CONSTRAINT outbox_messages_status_check
  CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'suppressed'));
ALTER TABLE outbox_messages ADD COLUMN suppressed_reason text
  CHECK (suppressed_reason IN ('stop_keyword', 'dnc', 'consent_withdrawn', 'manual'));
-- A carrier-required reply (the STOP confirmation, START and HELP answers): sent even to a
-- suppressed number, since the STOP confirmation goes out after the opt-out.
ALTER TABLE outbox_messages ADD COLUMN compliance_reply boolean NOT NULL DEFAULT false;
