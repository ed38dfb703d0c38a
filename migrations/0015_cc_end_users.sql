-- End users of the contact center (Apps API E1/E2, §3.6): identities of the core person. Each has a
-- per-tenant integer id (`num`, from cc_counters kind 'end_user'), an optional external
-- `identifier` (unique per tenant; null for an end user an SMS or a call created), and the core
-- person it is: a person known to the person API with the same phone is the same person.

CREATE TABLE cc_end_users (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  num             integer NOT NULL,
  identifier      text,
  name            text,
  email           text,
  phone           text CHECK (phone ~ '^\+[1-9][0-9]{7,14}$'),
  -- The CRM contact linked by mid-session authentication (no CRM integration yet: always null).
  out_contact_id  text,
  person_id       uuid NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  UNIQUE (tenant_id, num),
  FOREIGN KEY (tenant_id, person_id) REFERENCES people (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX cc_end_users_identifier ON cc_end_users (tenant_id, identifier) WHERE identifier IS NOT NULL;
-- One anonymous end user per phone: two SMS sessions of one number opened at once share it.
CREATE UNIQUE INDEX cc_end_users_anonymous_phone ON cc_end_users (tenant_id, phone) WHERE identifier IS NULL AND phone IS NOT NULL;
CREATE INDEX cc_end_users_phone ON cc_end_users (tenant_id, phone) WHERE phone IS NOT NULL;
CREATE INDEX cc_end_users_person ON cc_end_users (tenant_id, person_id);

-- Mid-session authentication (C5/H18): when each session last asked, so a repeat within the
-- cool-down is refused ("Duplicate request"). Keyed by the session's Apps API id.
CREATE TABLE cc_session_auth_requests (
  tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  session_num   integer NOT NULL,
  requested_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, session_num)
);
