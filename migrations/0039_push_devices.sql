-- Push: app credentials (#6–#9), user devices (#118–#120), their push logs, and badge counts
-- (#18–#21) of spec/courier.md.

-- An organisation's push credentials for one app on APNs (a token key: key id, team id, the .p8)
-- or FCM (a service account). The private key is sealed under the master key (secret_sealed); `data`
-- holds only the public members. Archived (by PATCH), never deleted.
CREATE TABLE msg_app_credentials (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  organization_id   uuid NOT NULL,
  type              text NOT NULL CHECK (type IN ('apn', 'fcm')),
  app_name          text NOT NULL,
  display_name      text NOT NULL DEFAULT '',
  store_id          text NOT NULL DEFAULT '',
  test_mode         boolean NOT NULL DEFAULT false,
  archived          boolean NOT NULL DEFAULT false,
  data              jsonb NOT NULL DEFAULT '{}'::jsonb,
  secret_sealed     text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  last_modified_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id)
);
-- A push looks up the live credential of a device's app and type.
CREATE INDEX msg_app_credentials_app ON msg_app_credentials (tenant_id, type, app_name) WHERE NOT archived;

-- A push token of an individual's app install: `apn` (hex device token), `fcm` (registration
-- token) or `web` (the PushSubscription JSON). One row per token and type in a tenant: registering
-- it again updates the row. A token the vendor reports unregistered deactivates its row.
CREATE TABLE msg_user_devices (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id           uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  person_id           uuid NOT NULL,
  type                text NOT NULL CHECK (type IN ('apn', 'fcm', 'web')),
  token               text NOT NULL,
  app_name            text NOT NULL DEFAULT '',
  app_version         text NOT NULL DEFAULT '',
  model               text NOT NULL DEFAULT '',
  os_version          text NOT NULL DEFAULT '',
  topic               text NOT NULL DEFAULT '',
  sandbox             boolean NOT NULL DEFAULT false,
  allow_notification  boolean NOT NULL DEFAULT true,
  active              boolean NOT NULL DEFAULT true,
  deactivated_reason  text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  last_modified_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  UNIQUE (tenant_id, type, token),
  FOREIGN KEY (tenant_id, person_id) REFERENCES people (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX msg_user_devices_person ON msg_user_devices (tenant_id, person_id);

-- Each push sent (or held back) to a device, and its outcome.
CREATE TABLE msg_user_device_logs (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id            uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  device_id            uuid NOT NULL,
  title                text NOT NULL DEFAULT '',
  body                 text NOT NULL DEFAULT '',
  category             text NOT NULL DEFAULT '',
  badge_count          integer NOT NULL DEFAULT 0,
  data                 jsonb NOT NULL DEFAULT '{}'::jsonb,
  status               text NOT NULL CHECK (status IN ('sent', 'failed', 'suppressed', 'unregistered', 'no-credentials')),
  error                text,
  provider_message_id  text,
  created_at           timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, device_id) REFERENCES msg_user_devices (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX msg_user_device_logs_device ON msg_user_device_logs (tenant_id, device_id, created_at);

-- An individual's unread counter of one category (`type`, e.g. appointment) in an organisation.
CREATE TABLE msg_badge_counts (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  organization_id   uuid NOT NULL,
  person_id         uuid NOT NULL,
  type              text NOT NULL,
  count             integer NOT NULL CHECK (count >= 0),
  "timestamp"       timestamptz,
  last_modified_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  UNIQUE (tenant_id, person_id, organization_id, type),
  FOREIGN KEY (tenant_id, person_id) REFERENCES people (tenant_id, id) ON DELETE CASCADE
);
