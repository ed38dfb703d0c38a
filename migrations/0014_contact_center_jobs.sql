-- Background work of the Apps API whose progress a client polls (A4: force logout of a large
-- selection), and the status an agent chose beside the one the system shows.

CREATE TABLE cc_jobs (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  num          integer NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('force_logout')),
  status       text NOT NULL CHECK (status IN ('in_progress', 'finished')),
  -- What to do (the selection), how far it got, and the per-agent results so far.
  input        jsonb NOT NULL,
  total        integer NOT NULL,
  processed    integer NOT NULL DEFAULT 0,
  results      jsonb NOT NULL DEFAULT '[]'::jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  UNIQUE (tenant_id, num)
);

-- The status the agent (or the API) chose — Available, Unavailable or a custom one — which the
-- agent returns to when a system status (In-chat, Wrap-up) ends. Null while Offline.
ALTER TABLE cc_agents ADD COLUMN chosen_status_id uuid;
ALTER TABLE cc_agents ADD FOREIGN KEY (tenant_id, chosen_status_id) REFERENCES cc_statuses (tenant_id, id);
