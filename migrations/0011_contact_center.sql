-- The contact center's setup (issue 9): teams, agents, agent statuses, the menu (queue) tree, phone
-- numbers and settings, declared by a tenant's setup file and loaded in place (ids stay stable by
-- name, email or number). The Apps API's integer ids are per tenant: each table has a `num` drawn
-- from cc_counters, unique per tenant, beside its uuid primary key.

-- Per-tenant integer ids of the Apps API (one row per tenant and kind; UPDATE … RETURNING hands
-- out the next one under the row lock, so two loads never give the same number).
CREATE TABLE cc_counters (
  tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  kind       text NOT NULL,
  last       integer NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, kind)
);

-- Every loaded setup file, as written (audit, download) and as validated (the document).
CREATE TABLE cc_setup_versions (
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  version     integer NOT NULL CHECK (version >= 1),
  document    jsonb NOT NULL,
  source      text NOT NULL,
  format      text NOT NULL CHECK (format IN ('yaml', 'json')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, version)
);

-- The tenant's contact-center settings (one row; absent = no contact center loaded yet).
-- Webhook secrets are sealed (AES-256-GCM under the master key), never stored in the clear.
CREATE TABLE cc_settings (
  tenant_id                uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  time_zone                text NOT NULL,
  sms_enabled              boolean NOT NULL,
  outbound_sms_enabled     boolean NOT NULL,
  chat_dismissal_seconds   integer NOT NULL CHECK (chat_dismissal_seconds > 0),
  offer_timeout_seconds    integer NOT NULL CHECK (offer_timeout_seconds > 0),
  wrap_up_seconds          integer NOT NULL CHECK (wrap_up_seconds >= 0),
  rate_limit_per_second    integer NOT NULL CHECK (rate_limit_per_second > 0),
  webhook_url              text,
  webhook_secrets_sealed   text[] NOT NULL DEFAULT '{}',
  updated_at               timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE cc_teams (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  num         integer NOT NULL,
  name        text NOT NULL,
  deleted_at  timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  UNIQUE (tenant_id, num),
  UNIQUE (tenant_id, name)
);

-- Agent statuses: the system ones (Available, Unavailable, Offline, In-chat, In-call, Wrap-up),
-- made with the first load, and the tenant's custom ones.
CREATE TABLE cc_statuses (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  num         integer NOT NULL,
  name        text NOT NULL,
  -- available: takes offers; away: settable, takes none; system: set by the system only.
  kind        text NOT NULL CHECK (kind IN ('available', 'away', 'system')),
  deleted_at  timestamptz,
  UNIQUE (tenant_id, id),
  UNIQUE (tenant_id, num),
  UNIQUE (tenant_id, name)
);

CREATE TABLE cc_agents (
  id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id               uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  num                     integer NOT NULL,
  email                   text NOT NULL,
  first_name              text NOT NULL,
  last_name               text NOT NULL,
  agent_number            text,
  location                text,
  roles                   text[] NOT NULL DEFAULT '{}',
  permissions             text[] NOT NULL DEFAULT '{}',
  chat_capacity           integer NOT NULL CHECK (chat_capacity >= 0),
  phone_numbers           text[] NOT NULL DEFAULT '{}',
  password_hash           text,
  deactivated_at          timestamptz,
  -- Live state (never touched by a setup load).
  status_id               uuid,
  status_updated_at       timestamptz NOT NULL DEFAULT now(),
  last_login_at           timestamptz,
  login_ip                inet,
  -- Since when the agent has been idle with free capacity (longest-idle routing).
  idle_since              timestamptz,
  -- Force logout asked while in an interaction: done when it ends.
  logout_pending          boolean NOT NULL DEFAULT false,
  created_at              timestamptz NOT NULL DEFAULT now(),
  updated_at              timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  UNIQUE (tenant_id, num),
  FOREIGN KEY (tenant_id, status_id) REFERENCES cc_statuses (tenant_id, id)
);
CREATE UNIQUE INDEX cc_agents_email ON cc_agents (tenant_id, lower(email));

CREATE TABLE cc_agent_teams (
  tenant_id  uuid NOT NULL,
  agent_id   uuid NOT NULL,
  team_id    uuid NOT NULL,
  PRIMARY KEY (tenant_id, agent_id, team_id),
  FOREIGN KEY (tenant_id, agent_id) REFERENCES cc_agents (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, team_id) REFERENCES cc_teams (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX cc_agent_teams_team ON cc_agent_teams (tenant_id, team_id);

-- Agent sign-ins of the agent API: bearer tokens, stored hashed.
CREATE TABLE cc_agent_sessions (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL,
  agent_id    uuid NOT NULL,
  token_hash  text NOT NULL UNIQUE,
  ip          inet,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz,
  FOREIGN KEY (tenant_id, agent_id) REFERENCES cc_agents (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX cc_agent_sessions_agent ON cc_agent_sessions (tenant_id, agent_id) WHERE revoked_at IS NULL;

-- The menu (queue) tree. A root carries the menu type; children inherit it. `path` is the names
-- from the root, joined by " / " (the Apps API's materialized_path), unique per type.
CREATE TABLE cc_menus (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id           uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  num                 integer NOT NULL,
  parent_id           uuid,
  menu_type           text NOT NULL CHECK (menu_type IN ('ivr_menu', 'mobile_menu', 'web_menu')),
  name                text NOT NULL,
  path                text NOT NULL,
  position            integer NOT NULL,
  leaf                boolean NOT NULL,
  hidden              boolean NOT NULL DEFAULT false,
  output_msg          text,
  channels            text[] NOT NULL DEFAULT '{}',
  languages           text[] NOT NULL DEFAULT '{}',
  priority            integer NOT NULL DEFAULT 0,
  -- Hours, holidays, after-hours and over-capacity behaviour, redirection, virtual agent, as in the file.
  config              jsonb NOT NULL DEFAULT '{}'::jsonb,
  deleted             boolean NOT NULL DEFAULT false,
  UNIQUE (tenant_id, id),
  UNIQUE (tenant_id, num),
  UNIQUE (tenant_id, menu_type, path),
  FOREIGN KEY (tenant_id, parent_id) REFERENCES cc_menus (tenant_id, id)
);

CREATE TABLE cc_menu_teams (
  tenant_id  uuid NOT NULL,
  menu_id    uuid NOT NULL,
  team_id    uuid NOT NULL,
  PRIMARY KEY (tenant_id, menu_id, team_id),
  FOREIGN KEY (tenant_id, menu_id) REFERENCES cc_menus (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, team_id) REFERENCES cc_teams (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX cc_menu_teams_team ON cc_menu_teams (tenant_id, team_id);

CREATE TABLE cc_phone_numbers (
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  number      text NOT NULL CHECK (number ~ '^\+[1-9][0-9]{1,14}$'),
  sms         boolean NOT NULL,
  voice       boolean NOT NULL,
  us          boolean NOT NULL,
  deleted     boolean NOT NULL DEFAULT false,
  PRIMARY KEY (tenant_id, number)
);
