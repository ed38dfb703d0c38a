-- Messaging plugins (#66–#72) and responders (#73–#78) of spec/courier.md, and the auto-replies
-- responders posted (at most one per responder, channel and active window).

CREATE TABLE msg_plugins (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  organization_id   uuid NOT NULL,
  name              text NOT NULL,
  type              text NOT NULL,
  args              jsonb NOT NULL DEFAULT '{}'::jsonb,
  enabled           boolean NOT NULL DEFAULT true,
  created_by        uuid,
  last_modified_by  uuid,
  created_at        timestamptz NOT NULL DEFAULT now(),
  last_modified_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  CONSTRAINT msg_plugins_name UNIQUE (tenant_id, organization_id, name)
);

CREATE TABLE msg_responders (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id            uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  organization_id      uuid NOT NULL,
  individual_group_id  uuid NOT NULL,
  name                 text NOT NULL,
  type                 text NOT NULL,
  args                 jsonb NOT NULL DEFAULT '{}'::jsonb,
  calendar_args        jsonb NOT NULL DEFAULT '{"rules": [], "timezone": "UTC"}'::jsonb,
  start_at             timestamptz,
  end_at               timestamptz,
  enabled              boolean NOT NULL DEFAULT true,
  -- When the current active stretch may begin at the earliest: set on create, enable and update,
  -- so a changed or re-enabled responder answers again.
  armed_at             timestamptz NOT NULL DEFAULT now(),
  created_by           uuid,
  last_modified_by     uuid,
  created_at           timestamptz NOT NULL DEFAULT now(),
  last_modified_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, individual_group_id) REFERENCES msg_individual_groups (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX msg_responders_group ON msg_responders (tenant_id, individual_group_id) WHERE enabled;

-- One row per auto-reply: the key makes a second reply in the same window impossible, also when
-- two messages arrive at once.
CREATE TABLE msg_responder_replies (
  tenant_id     uuid NOT NULL,
  responder_id  uuid NOT NULL,
  channel_id    uuid NOT NULL,
  window_start  timestamptz NOT NULL,
  message_id    uuid,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, responder_id, channel_id, window_start),
  FOREIGN KEY (tenant_id, responder_id) REFERENCES msg_responders (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, channel_id) REFERENCES msg_channels (tenant_id, id) ON DELETE CASCADE
);
