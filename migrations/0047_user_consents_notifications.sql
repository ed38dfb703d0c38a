-- User consents (spec/courier.md #115–#117) and user notifications (#131–#134), issue 13 items 5 and 3.

-- An SMS opt-in conversation with a user: the `initial` message went to `target_id` (the phone, E.164)
-- and the user's reply moves `state` from `pending` to `accepted` or `declined` (README "Consent").
-- `args` holds the three message texts; `language` is the recipient's, which the reply is read in.
CREATE TABLE msg_user_consents (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  organization_id   uuid NOT NULL,
  user_id           uuid NOT NULL,
  person_id         uuid,
  type              text NOT NULL CHECK (type IN ('sms')),
  state             text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'accepted', 'declined')),
  target_id         text NOT NULL,
  language          text,
  args              jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- The inbound message that settled it (null while pending).
  answered_by       uuid,
  created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
  last_modified_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  UNIQUE (tenant_id, id)
);
CREATE INDEX msg_user_consents_created ON msg_user_consents (tenant_id, created_at, id);
CREATE INDEX msg_user_consents_target ON msg_user_consents (tenant_id, target_id, state, created_at DESC);

-- An outbox message held back because the tenant requires an accepted SMS consent and the number has none.
ALTER TABLE outbox_messages DROP CONSTRAINT IF EXISTS outbox_messages_suppressed_reason_check;
ALTER TABLE outbox_messages ADD CONSTRAINT outbox_messages_suppressed_reason_check
  CHECK (suppressed_reason IN ('stop_keyword', 'dnc', 'consent_withdrawn', 'manual', 'consent_required'));

-- One notification an individual was sent: a multicast (one row per recipient, written in the
-- batch transaction that marks the recipient sent) or a push to the individual (written with the
-- devices' push logs). `data` holds what went out per channel: {apn, fcm, sms: {bodies}, web}.
CREATE TABLE msg_user_notifications (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  organization_id   uuid NOT NULL,
  person_id         uuid NOT NULL,
  -- The individual's user when it is one (at the time of the send).
  user_id           uuid,
  multicast_id      uuid,
  category          text NOT NULL DEFAULT '',
  data              jsonb NOT NULL DEFAULT '{}'::jsonb,
  acknowledged      boolean NOT NULL DEFAULT false,
  acknowledged_at   timestamptz,
  active            boolean NOT NULL DEFAULT true,
  created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
  UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX msg_user_notifications_multicast ON msg_user_notifications (tenant_id, multicast_id, person_id) WHERE multicast_id IS NOT NULL;
CREATE INDEX msg_user_notifications_person ON msg_user_notifications (tenant_id, person_id, created_at, id);
CREATE INDEX msg_user_notifications_created ON msg_user_notifications (tenant_id, created_at);
