-- Twilio delivery: the `undelivered` outcome, SMS segment count and encoding per message, a
-- history of every delivery status a provider reported, and per-sender send slots for rate limits.

-- Add `undelivered` to the outbox status check, keeping whatever other values earlier migrations
-- allowed (colleagues' migrations may have added their own outcomes to the same check).
DO $$
DECLARE
  con record;
  def text;
BEGIN
  FOR con IN
    SELECT c.conname, pg_get_constraintdef(c.oid) AS def FROM pg_constraint c
    WHERE c.conrelid = 'outbox_messages'::regclass AND c.contype = 'c' AND pg_get_constraintdef(c.oid) LIKE '%status%''delivered''%'
  LOOP
    IF con.def NOT LIKE '%''undelivered''%' THEN
      def := replace(con.def, '''delivered''::text', '''delivered''::text, ''undelivered''::text');
      EXECUTE format('ALTER TABLE outbox_messages DROP CONSTRAINT %I', con.conname);
      EXECUTE format('ALTER TABLE outbox_messages ADD CONSTRAINT %I %s', con.conname, def);
    END IF;
  END LOOP;
END $$;

ALTER TABLE outbox_messages
  -- SMS only: how many segments the body takes and in which encoding (GSM-7 or UCS-2).
  ADD COLUMN segments integer CHECK (segments IS NULL OR segments >= 1),
  ADD COLUMN encoding text CHECK (encoding IS NULL OR encoding IN ('GSM-7', 'UCS-2')),
  -- When the provider last reported a status (delivered, undelivered, failed) and its error code.
  ADD COLUMN status_at timestamptz,
  ADD COLUMN provider_error_code text;

-- Status callbacks find their message by the vendor's id.
CREATE INDEX outbox_messages_provider_id ON outbox_messages (tenant_id, provider, provider_message_id) WHERE provider_message_id IS NOT NULL;

-- Every status a message went through, as we recorded it or the provider reported it (a status
-- callback that arrives late or twice is kept here even when it does not move the message).
CREATE TABLE outbox_status_events (
  id               bigserial PRIMARY KEY,
  tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  message_id       uuid NOT NULL REFERENCES outbox_messages (id) ON DELETE CASCADE,
  -- The outbox status after the event (queued, sent, delivered, undelivered, failed).
  status           text NOT NULL,
  -- The vendor's own status word (Twilio: accepted, queued, sending, sent, delivered, undelivered, failed, read).
  provider_status  text,
  error_code       text,
  -- Whether it moved the message (false: late or repeated callback).
  applied          boolean NOT NULL DEFAULT true,
  at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_status_events_message ON outbox_status_events (message_id, id);
CREATE INDEX outbox_status_events_tenant ON outbox_status_events (tenant_id);

-- Per-sender rate limits, shared by every worker process: the next free send slot of one sender
-- (a long-code number, a messaging service). A worker reserves a slot with one atomic upsert
-- (`next_slot = greatest(next_slot, now()) + interval`) and sends at the slot it got.
CREATE TABLE sender_rate_slots (
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  channel     text NOT NULL,
  sender      text NOT NULL,
  next_slot   timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, channel, sender)
);
