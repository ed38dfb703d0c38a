-- Messaging API system resources (spec/courier.md #87–#91).
--
-- Replicators: the import/sync workers of a tenant and when each last ran (the directory import
-- records itself at the end of every import that wrote). One row per tenant and classpath.
CREATE TABLE msg_replicators (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  classpath text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_poll_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, classpath)
);

-- Sniffers: time-limited capture of one directory user's API traffic, and what was captured.
CREATE TABLE msg_sniffers (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES msg_users (id) ON DELETE CASCADE,
  valid_until timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX msg_sniffers_active ON msg_sniffers (tenant_id, user_id, valid_until);

CREATE TABLE msg_sniffer_logs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  sniffer_id uuid NOT NULL REFERENCES msg_sniffers (id) ON DELETE CASCADE,
  method text NOT NULL,
  path text NOT NULL,
  query_string text NOT NULL,
  content_type text NOT NULL,
  body text NOT NULL,
  response text NOT NULL,
  status_code integer NOT NULL,
  message text NOT NULL,
  user_agent text NOT NULL,
  request_id text NOT NULL,
  trace_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX msg_sniffer_logs_by_sniffer ON msg_sniffer_logs (tenant_id, sniffer_id, created_at, id);
