-- The chat lifecycle (issue 9 items 2 and 5, spec/ccai.md §4.2): the virtual agent's conversation,
-- escalations with their deflection options, transfers between agents and queues, dismissal and
-- resume (previous agent preferred), and agents' wrap-up after a chat.

-- The virtual agent's conversation with the end user (the bot runtime's state), while it has one.
ALTER TABLE cc_sessions ADD COLUMN va_state jsonb;
-- The channel the end user was deflected to (`deflected` chats), as the Apps API shows it.
ALTER TABLE cc_sessions ADD COLUMN deflection_channel text;
-- Routing offers the session to this agent first when free (a resumed chat's previous agent).
ALTER TABLE cc_sessions ADD COLUMN preferred_agent_id uuid;
-- The wrap-up disposition the agent posted after the chat ended.
ALTER TABLE cc_sessions ADD COLUMN disposition text;
-- The scheduler finds live chats past their dismissal timeout by their last activity.
CREATE INDEX cc_sessions_live ON cc_sessions (last_activity_at) WHERE status IN ('assigned', 'va_assigned');

-- Escalations from the virtual agent to a human (H4, H5, §3.16).
CREATE TABLE cc_escalations (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id            uuid NOT NULL,
  num                  integer NOT NULL,
  session_id           uuid NOT NULL,
  reason               text,
  force_escalate       boolean NOT NULL DEFAULT false,
  status               text NOT NULL CHECK (status IN ('created', 'deflection_offered', 'escalated', 'deflected', 'failed')),
  deflection_channels  text[] NOT NULL DEFAULT '{}',
  deflection_channel   text,
  created_at           timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, num),
  FOREIGN KEY (tenant_id, session_id) REFERENCES cc_sessions (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX cc_escalations_session ON cc_escalations (tenant_id, session_id, num);

-- Transfers of an assigned chat to another agent (an offer to that agent) or to a queue (§3.7).
CREATE TABLE cc_transfers (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id      uuid NOT NULL,
  num            integer NOT NULL,
  session_id     uuid NOT NULL,
  status         text NOT NULL CHECK (status IN ('transferring', 'transferred', 'failed')),
  fail_reason    text NOT NULL DEFAULT 'nothing',
  from_agent_id  uuid,
  to_agent_id    uuid,
  from_menu_id   uuid,
  to_menu_id     uuid,
  -- The offer to `to_agent_id` of an agent transfer.
  offer_id       uuid,
  created_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, num),
  FOREIGN KEY (tenant_id, session_id) REFERENCES cc_sessions (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX cc_transfers_session ON cc_transfers (tenant_id, session_id, num);
CREATE INDEX cc_transfers_offer ON cc_transfers (offer_id) WHERE offer_id IS NOT NULL;

-- An agent in Wrap-up after a chat: until when (the scheduler returns them to their status then).
ALTER TABLE cc_agents ADD COLUMN wrap_up_until timestamptz;
-- The chat the agent wraps up (their disposition is posted against it).
ALTER TABLE cc_agents ADD COLUMN wrap_up_session_id uuid;
CREATE INDEX cc_agents_wrap_up ON cc_agents (wrap_up_until) WHERE wrap_up_until IS NOT NULL;
