-- Messaging channels and messages (spec/courier.md #44–#62). Subscribers and authors are
-- individuals, i.e. core people (`people.id`); a care-team user acts as its operational individual.

CREATE TABLE msg_channels (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id            uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  organization_id      uuid NOT NULL,
  name                 text NOT NULL DEFAULT '',
  label                text,
  subscription_type    text NOT NULL DEFAULT 'none'
                       CHECK (subscription_type IN ('direct-message', 'group-message', 'multicast', 'none', 'open', 'single')),
  floating             boolean NOT NULL DEFAULT false,
  event_settings       jsonb NOT NULL DEFAULT '{"enabled": true}'::jsonb,
  individual_group_id  uuid,
  text_number_id       uuid,
  created_by           uuid,
  archived_at          timestamptz,
  sms_active           boolean NOT NULL DEFAULT false,
  sms_initial_message  text,
  sms_initial_message_js jsonb,
  created_at           timestamptz NOT NULL DEFAULT now(),
  last_modified_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id)
);
CREATE INDEX msg_channels_tenant_modified ON msg_channels (tenant_id, last_modified_at DESC);

CREATE TABLE msg_channel_subscribers (
  tenant_id      uuid NOT NULL,
  channel_id     uuid NOT NULL,
  individual_id  uuid NOT NULL,
  admin          boolean NOT NULL DEFAULT false,
  pinned         boolean NOT NULL DEFAULT false,
  preferences    jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- The read marker: every message up to this sequence number is read by the subscriber.
  ack_seq        bigint NOT NULL DEFAULT 0,
  ack_at         timestamptz,
  -- Per row, so subscribers added in one statement keep their order.
  created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (tenant_id, channel_id, individual_id),
  FOREIGN KEY (tenant_id, channel_id) REFERENCES msg_channels (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, individual_id) REFERENCES people (tenant_id, id) ON DELETE CASCADE
);
-- An individual's channels (the channel list of one individual).
CREATE INDEX msg_channel_subscribers_individual ON msg_channel_subscribers (tenant_id, individual_id);

CREATE TABLE msg_messages (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id             uuid NOT NULL,
  channel_id            uuid NOT NULL,
  -- Posting order across the tenant's channels; acks compare it.
  seq                   bigserial NOT NULL,
  author_id             uuid,
  message               text NOT NULL DEFAULT '',
  draft                 boolean NOT NULL DEFAULT false,
  removed               boolean NOT NULL DEFAULT false,
  source                text NOT NULL DEFAULT 'participant',
  auto_ack              text NOT NULL DEFAULT '',
  include_destinations  jsonb NOT NULL DEFAULT '[]'::jsonb,
  posted_at             timestamptz NOT NULL DEFAULT now(),
  last_modified_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, channel_id) REFERENCES msg_channels (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX msg_messages_channel ON msg_messages (tenant_id, channel_id, seq);

CREATE TABLE msg_reactions (
  tenant_id      uuid NOT NULL,
  message_id     uuid NOT NULL,
  individual_id  uuid NOT NULL,
  reaction_type  text NOT NULL CHECK (reaction_type IN ('dislike', 'like', 'lol', 'love', 'sad', 'wow')),
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, message_id, individual_id, reaction_type),
  FOREIGN KEY (tenant_id, message_id) REFERENCES msg_messages (tenant_id, id) ON DELETE CASCADE
);
