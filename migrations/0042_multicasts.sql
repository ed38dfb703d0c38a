-- Templated multicasts (spec/courier.md #26, #79–#81, #129–#130, #138): a template rendered per
-- recipient and sent on the channels the template has and the recipient can be reached on.

-- A multicast: who sent which template with which data to which audience, and how far its fan-out
-- job (`messaging.multicast`, whose key is this id: the `task-id`) has come. `kind` says which
-- operation made it: #80 (`multicast`), #26 (`individual`), #130 (`user-multicast`), #138 (`user`).
CREATE TABLE msg_multicasts (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id            uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  organization_id      uuid NOT NULL,
  kind                 text NOT NULL CHECK (kind IN ('multicast', 'individual', 'user-multicast', 'user')),
  -- The user of a user token (or of #138's URL), or the organisation's id for the organisation key.
  created_by           uuid NOT NULL,
  template_id          text NOT NULL,
  data                 jsonb NOT NULL DEFAULT '{}'::jsonb,
  filter_type          text NOT NULL,
  filter_value         jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- The audience's one group (filter-type `individual-group`), the one individual (#26, #138) and
  -- the listed individuals (Cass ids), as asked.
  individual_group_id  uuid,
  individual_id        uuid,
  individual_ids       jsonb NOT NULL DEFAULT '[]'::jsonb,
  status               text NOT NULL DEFAULT 'sending' CHECK (status IN ('sending', 'sent')),
  created_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
  finished_at          timestamptz,
  UNIQUE (tenant_id, id)
);
CREATE INDEX msg_multicasts_created ON msg_multicasts (tenant_id, created_at DESC);

-- The worklist of a multicast, fixed when it is created: one row per recipient. A recipient becomes
-- `sent` (or `skipped`, with the reason) in the same transaction as its SMS/e-mail outbox rows and
-- its in-app record, so a crashed or concurrent run never sends twice and never skips one. Pushes
-- are immediate: `push_pending` is set in that transaction and cleared once the push went out.
-- A `sent` row is what #129 (`user-multicasts`) lists for the individual.
CREATE TABLE msg_multicast_recipients (
  id            uuid NOT NULL DEFAULT gen_random_uuid(),
  tenant_id     uuid NOT NULL,
  multicast_id  uuid NOT NULL,
  person_id     uuid NOT NULL,
  position      integer NOT NULL,
  state         text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'skipped')),
  reason        text,
  channels      jsonb NOT NULL DEFAULT '[]'::jsonb,
  language      text,
  in_app        jsonb,
  push          jsonb,
  push_pending  boolean NOT NULL DEFAULT false,
  done_at       timestamptz,
  PRIMARY KEY (tenant_id, multicast_id, person_id),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, multicast_id) REFERENCES msg_multicasts (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX msg_multicast_recipients_pending ON msg_multicast_recipients (tenant_id, multicast_id, position) WHERE state = 'pending';
CREATE INDEX msg_multicast_recipients_push ON msg_multicast_recipients (tenant_id, multicast_id) WHERE push_pending;
CREATE INDEX msg_multicast_recipients_person ON msg_multicast_recipients (tenant_id, person_id, done_at DESC) WHERE state = 'sent';
