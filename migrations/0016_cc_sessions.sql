-- Contact-center sessions (chats now; calls later share the table, queues, agents and offers),
-- their participants, messages and the offers routing makes. Per-tenant integer ids (`num`) as the
-- Apps API shows them.

CREATE TABLE cc_sessions (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  num               integer NOT NULL,
  channel           text NOT NULL CHECK (channel IN ('chat', 'call')),
  chat_type         text NOT NULL,
  status            text NOT NULL,
  status_text       text NOT NULL,
  menu_id           uuid,
  lang              text NOT NULL DEFAULT 'en',
  end_user_num      integer,
  person_id         uuid,
  email             text,
  context           jsonb,
  custom_data       jsonb,
  verified          boolean NOT NULL DEFAULT false,
  bad_actor         boolean NOT NULL DEFAULT false,
  repeat_customer   boolean NOT NULL DEFAULT false,
  priority          integer NOT NULL DEFAULT 0,
  -- The agent now handling the session (null while queued or with a virtual agent).
  agent_id          uuid,
  offer_type        text,
  offer_events      jsonb NOT NULL DEFAULT '[]'::jsonb,
  answer_type       text,
  outbound_number   text,
  disconnected_by   text NOT NULL DEFAULT 'disconnected_by_unknown',
  created_at        timestamptz NOT NULL DEFAULT now(),
  queued_at         timestamptz,
  assigned_at       timestamptz,
  ends_at           timestamptz,
  last_activity_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  UNIQUE (tenant_id, num),
  FOREIGN KEY (tenant_id, menu_id) REFERENCES cc_menus (tenant_id, id),
  FOREIGN KEY (tenant_id, agent_id) REFERENCES cc_agents (tenant_id, id)
);
-- Routing reads waiting sessions of a tenant in offer order.
CREATE INDEX cc_sessions_queued ON cc_sessions (tenant_id, priority DESC, queued_at) WHERE status = 'queued';
CREATE INDEX cc_sessions_agent ON cc_sessions (tenant_id, agent_id) WHERE agent_id IS NOT NULL;

CREATE TABLE cc_participants (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    uuid NOT NULL,
  num          integer NOT NULL,
  session_id   uuid NOT NULL,
  type         text NOT NULL CHECK (type IN ('end_user', 'agent', 'virtual_agent')),
  agent_id     uuid,
  end_user_num integer,
  status       text NOT NULL,
  connected_at timestamptz,
  ended_at     timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, num),
  FOREIGN KEY (tenant_id, session_id) REFERENCES cc_sessions (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX cc_participants_session ON cc_participants (tenant_id, session_id);

CREATE TABLE cc_messages (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    uuid NOT NULL,
  num          integer NOT NULL,
  session_id   uuid NOT NULL,
  -- Who wrote it: the end user, an agent, or the virtual agent (both null).
  from_end_user boolean NOT NULL,
  agent_id     uuid,
  type         text NOT NULL,
  content      text,
  media_id     text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, num),
  FOREIGN KEY (tenant_id, session_id) REFERENCES cc_sessions (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX cc_messages_session ON cc_messages (tenant_id, session_id, num);

-- Offers of a session to agents. At most one pending offer per session, enforced here: a session
-- is never offered to two agents at once, whatever number of routers run.
CREATE TABLE cc_offers (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    uuid NOT NULL,
  session_id   uuid NOT NULL,
  agent_id     uuid NOT NULL,
  result       text NOT NULL DEFAULT 'pending' CHECK (result IN ('pending', 'accepted', 'rejected', 'timeout', 'withdrawn')),
  offered_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  resolved_at  timestamptz,
  FOREIGN KEY (tenant_id, session_id) REFERENCES cc_sessions (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, agent_id) REFERENCES cc_agents (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX cc_offers_one_pending ON cc_offers (tenant_id, session_id) WHERE result = 'pending';
CREATE INDEX cc_offers_agent_pending ON cc_offers (tenant_id, agent_id) WHERE result = 'pending';
CREATE INDEX cc_offers_expiry ON cc_offers (expires_at) WHERE result = 'pending';

-- What each agent's workspace hears (offers, chat changes, messages), in order: the agent API's
-- event stream reads after the last id it sent (`Last-Event-ID` resumes it). A row announces itself
-- on `switchboard_cc_agent` (payload `<tenant id>:<agent id>`), so every API process serving a tab
-- of that agent reads it at once.
CREATE TABLE cc_agent_events (
  id          bigserial PRIMARY KEY,
  tenant_id   uuid NOT NULL,
  agent_id    uuid NOT NULL,
  type        text NOT NULL,
  data        jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (tenant_id, agent_id) REFERENCES cc_agents (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX cc_agent_events_agent ON cc_agent_events (tenant_id, agent_id, id);

CREATE FUNCTION notify_cc_agent_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('switchboard_cc_agent', NEW.tenant_id::text || ':' || NEW.agent_id::text);
  RETURN NULL;
END $$;
CREATE TRIGGER cc_agent_events_notify AFTER INSERT ON cc_agent_events
  FOR EACH ROW EXECUTE FUNCTION notify_cc_agent_event();
