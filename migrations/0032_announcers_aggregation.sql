-- Messaging announcers (#2–#5 of spec/courier.md) and aggregation requests (#1).

-- An organisation's event hook: a named handler of `type` (webhook) with `args`, fired on `event`.
-- The webhook's signing secret is kept sealed under the master key (secret_sealed), never in args.
CREATE TABLE msg_announcers (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  organization_id   uuid NOT NULL,
  name              text NOT NULL,
  type              text NOT NULL,
  event             text NOT NULL,
  args              jsonb NOT NULL DEFAULT '{}'::jsonb,
  secret_sealed     text,
  created_by        uuid,
  last_modified_by  uuid,
  created_at        timestamptz NOT NULL DEFAULT now(),
  last_modified_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id)
);
-- Every post and every new subscriber looks its tenant's announcers of one event up.
CREATE INDEX msg_announcers_event ON msg_announcers (tenant_id, event, organization_id);

-- A batch of {column, individual-id} entries computed by the `messaging.aggregate` job.
CREATE TABLE msg_aggregation_requests (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  entries       jsonb NOT NULL,
  status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed', 'failed')),
  results       jsonb,
  error         text,
  created_by    uuid,
  created_at    timestamptz NOT NULL DEFAULT now(),
  completed_at  timestamptz,
  UNIQUE (tenant_id, id)
);
