-- The campaign dialer (issue 12, item 5, second half): per contact the dials made and the time
-- before which it is not dialled (a redial's due time, or calling hours still closed); per call the
-- dialer placed, its campaign and contact and how its dial went (the pacing counters are derived
-- from these rows); per campaign the state of its one runner (a self-rescheduling job whose round
-- number is its job key, so one chain runs whatever the number of worker processes).

ALTER TABLE cc_campaign_contacts
  ADD COLUMN attempts   integer NOT NULL DEFAULT 0,
  ADD COLUMN dial_after timestamptz;

CREATE INDEX cc_campaign_contacts_dialable ON cc_campaign_contacts (tenant_id, campaign_id, status, dial_after);

CREATE TABLE cc_dialer_calls (
  tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  session_id   uuid NOT NULL,
  campaign_id  uuid NOT NULL,
  contact_id   uuid NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  -- The contact picked up (the call was queued for an agent, or abandoned by the dialer).
  answered_at  timestamptz,
  ended_at     timestamptz,
  -- The contact status the dial ended in (Finished, Not Picked Up, Abandoned by Dialer, ...).
  outcome      text,
  PRIMARY KEY (tenant_id, session_id)
);
CREATE INDEX cc_dialer_calls_campaign ON cc_dialer_calls (tenant_id, campaign_id, created_at);

CREATE TABLE cc_dialer_state (
  tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  campaign_id  uuid NOT NULL,
  round        integer NOT NULL DEFAULT 0,
  active       boolean NOT NULL DEFAULT false,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, campaign_id)
);
