-- Contact-center calls (issue 12, items 1–2; spec/ccai.md §2.1, §3.1, §4.1). A call is a session
-- of channel 'call' (cc_sessions): the same integer ids, queues, agents, offers and routing as
-- chats; `chat_type` holds its call type. These columns are the call's own (§3.1); each party's
-- telephony is a leg (cc_call_legs) the voice provider dials into the call's conference.

-- The end user's number the platform dials (not `end_user_phone`, which keys SMS sessions).
ALTER TABLE cc_sessions ADD COLUMN end_user_number text;
ALTER TABLE cc_sessions ADD COLUMN parent_num integer;
ALTER TABLE cc_sessions ADD COLUMN scheduled_at timestamptz;
ALTER TABLE cc_sessions ADD COLUMN connected_at timestamptz;
ALTER TABLE cc_sessions ADD COLUMN call_duration integer NOT NULL DEFAULT 0;
ALTER TABLE cc_sessions ADD COLUMN hold_duration integer NOT NULL DEFAULT 0;
-- Set while the call is on hold (hold_duration grows by the span when it is resumed or ends).
ALTER TABLE cc_sessions ADD COLUMN hold_started_at timestamptz;
ALTER TABLE cc_sessions ADD COLUMN voip_provider text;
ALTER TABLE cc_sessions ADD COLUMN fail_reason text NOT NULL DEFAULT 'nothing';
ALTER TABLE cc_sessions ADD COLUMN fail_details text;
ALTER TABLE cc_sessions ADD COLUMN recording_url text;
ALTER TABLE cc_sessions ADD COLUMN recording_permission text NOT NULL DEFAULT 'not_asked';
ALTER TABLE cc_sessions ADD COLUMN voicemail_reason text NOT NULL DEFAULT 'not_voicemail';
ALTER TABLE cc_sessions ADD COLUMN deflection text NOT NULL DEFAULT 'no_deflection';
ALTER TABLE cc_sessions ADD COLUMN support_number text;
ALTER TABLE cc_sessions ADD COLUMN out_ticket_url text;
-- W2: what the outbound dialer pushed about the contact (shown to the agent).
ALTER TABLE cc_sessions ADD COLUMN contact_data jsonb;
-- Which configured provider carries the call: 0 the tenant's, 1 its fallback (after `switching`).
ALTER TABLE cc_sessions ADD COLUMN provider_attempt integer NOT NULL DEFAULT 0;

CREATE TABLE cc_call_legs (
  -- Our leg id, the same on every attempt and in the provider's callbacks.
  id                uuid PRIMARY KEY,
  tenant_id         uuid NOT NULL,
  session_id        uuid NOT NULL,
  party             text NOT NULL CHECK (party IN ('agent', 'end_user')),
  agent_id          uuid,
  to_number         text NOT NULL,
  provider          text NOT NULL,
  provider_call_id  text,
  status            text NOT NULL DEFAULT 'initiated',
  answered_at       timestamptz,
  ended_at          timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (tenant_id, session_id) REFERENCES cc_sessions (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX cc_call_legs_session ON cc_call_legs (tenant_id, session_id);
