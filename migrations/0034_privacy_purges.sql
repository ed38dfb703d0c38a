-- Purge-data (spec/courier.md #86): erasing or archiving an individual everywhere, as a job.
--
-- The audit record of one purge request. It names who asked, when, which entity and how many
-- records of each kind were erased, and never the erased content. `request_id` makes the request
-- idempotent per tenant: the same request id answers the same purge and runs nothing again.
CREATE TABLE privacy_purges (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  request_id     text NOT NULL,
  reference_id   text,
  entity_type    text NOT NULL,
  -- The individual id as the caller gave it (the Cass person id): an identifier, not content.
  entity_id      text NOT NULL,
  archive        boolean NOT NULL DEFAULT false,
  -- Who asked: `organization` (the API key) or `user:<id>` (a user token).
  requested_by   text NOT NULL,
  status         text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'completed', 'failed')),
  -- Records erased per kind, e.g. {"messages": 3, "files": 2}.
  counts         jsonb NOT NULL DEFAULT '{}',
  -- Stored files still to delete once the erasing transaction committed (kept until they are gone).
  pending_files  jsonb NOT NULL DEFAULT '[]',
  attempts       integer NOT NULL DEFAULT 0,
  last_error     text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  started_at     timestamptz,
  completed_at   timestamptz,
  UNIQUE (tenant_id, request_id)
);
CREATE INDEX privacy_purges_entity ON privacy_purges (tenant_id, entity_type, entity_id);

-- What a purge with `archive: true` moved out of the live tables: one document per purge, read
-- by the operator (`switchboard purge archive`), never by any API.
CREATE TABLE privacy_archives (
  purge_id    uuid PRIMARY KEY REFERENCES privacy_purges (id) ON DELETE CASCADE,
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  document    jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
