-- Texts and numbers (#92–#113 of spec/courier.md): an organisation's SMS account on the tenant's
-- SMS provider, its numbers, what they logged and received, carrier lookups, the users pinned to a
-- number, and the texts sent through a number (by delivery: `outbox_id`).

-- An organisation's SMS account: on Twilio a sub-account (`provider_account_id` = its AC… sid), on
-- the sandbox a simulated one (SB…). `phone_number`: the account's own number (set with
-- allow-custom-number, or the first number provisioned).
CREATE TABLE text_accounts (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id            uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  organization_id      uuid NOT NULL,
  allow_custom_number  boolean NOT NULL DEFAULT false,
  phone_number         text,
  provider             text NOT NULL,
  provider_account_id  text NOT NULL,
  created_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
  UNIQUE (tenant_id, id)
);
CREATE INDEX text_accounts_org ON text_accounts (tenant_id, organization_id, created_at);

-- A number of an account: provisioned by area code or claimed. `provider_number_id`: Twilio's PN…
-- sid (the sandbox's SP…). `events`: `{"unknown-number": {}}` when that event is on.
CREATE TABLE text_account_numbers (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id           uuid NOT NULL,
  account_id          uuid NOT NULL,
  phone_number        text NOT NULL,
  provider_number_id  text NOT NULL,
  alert               boolean NOT NULL DEFAULT false,
  forward_to          text NOT NULL DEFAULT '',
  logging             boolean NOT NULL DEFAULT false,
  notes               text NOT NULL DEFAULT '',
  events              jsonb NOT NULL DEFAULT '{}',
  capability_sms      boolean NOT NULL DEFAULT true,
  capability_mms      boolean NOT NULL DEFAULT false,
  capability_voice    boolean NOT NULL DEFAULT false,
  lata                text NOT NULL DEFAULT '',
  latitude            text NOT NULL DEFAULT '',
  longitude           text NOT NULL DEFAULT '',
  postal_code         text NOT NULL DEFAULT '',
  rate_center         text NOT NULL DEFAULT '',
  region              text NOT NULL DEFAULT '',
  created_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
  UNIQUE (tenant_id, id),
  UNIQUE (tenant_id, phone_number),
  FOREIGN KEY (tenant_id, account_id) REFERENCES text_accounts (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX text_account_numbers_account ON text_account_numbers (tenant_id, account_id, created_at);

-- What a number sent and received while `logging` was on (`party`: the other phone, for the purge).
CREATE TABLE text_number_logs (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL,
  number_id   uuid NOT NULL,
  party       text NOT NULL,
  log         text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  FOREIGN KEY (tenant_id, number_id) REFERENCES text_account_numbers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX text_number_logs_number ON text_number_logs (tenant_id, number_id, created_at);

-- An inbound SMS to one of the tenant's numbers; `id` is the provider's message id.
CREATE TABLE text_receive_logs (
  tenant_id   uuid NOT NULL,
  id          text NOT NULL,
  number_id   uuid NOT NULL,
  inbound_id  uuid,
  sender      text NOT NULL,
  recipient   text NOT NULL,
  message     text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, number_id) REFERENCES text_account_numbers (tenant_id, id) ON DELETE CASCADE
);

-- A carrier lookup of a US number, cached per tenant and number.
CREATE TABLE text_number_info (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id            uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  number               text NOT NULL,
  status               text NOT NULL DEFAULT 'pending',
  type                 text NOT NULL DEFAULT '',
  carrier_name         text NOT NULL DEFAULT '',
  mobile_country_code  text NOT NULL DEFAULT '',
  mobile_network_code  text NOT NULL DEFAULT '',
  error                text NOT NULL DEFAULT '',
  created_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
  last_modified_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  UNIQUE (tenant_id, number)
);

-- A user pinned to a number: texts to the user go from it.
CREATE TABLE text_user_number_maps (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        uuid NOT NULL,
  organization_id  uuid NOT NULL,
  number_id        uuid NOT NULL,
  user_id          uuid NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
  UNIQUE (tenant_id, organization_id, user_id),
  FOREIGN KEY (tenant_id, number_id) REFERENCES text_account_numbers (tenant_id, id) ON DELETE CASCADE
);

-- A text sent through a number: one outbox message (`outbox_id`), whose outcome is its status.
-- `reported_status`: the last status posted to callback-status-url; `replied_at`: when a reply
-- was posted to callback-url (with callback-one-off, the only one).
CREATE TABLE texts (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id            uuid NOT NULL,
  account_id           uuid NOT NULL,
  number_id            uuid NOT NULL,
  organization_id      uuid NOT NULL,
  created_by           uuid NOT NULL,
  target               text NOT NULL,
  sender               text NOT NULL,
  message              text NOT NULL,
  callback_status_url  text NOT NULL DEFAULT '',
  callback_url         text NOT NULL DEFAULT '',
  callback_json        jsonb NOT NULL DEFAULT '{}',
  callback_one_off     boolean NOT NULL DEFAULT false,
  expected_responses   jsonb NOT NULL DEFAULT '[]',
  outbox_id            uuid,
  reported_status      text NOT NULL DEFAULT '',
  replied_at           timestamptz,
  created_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
  last_modified_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, number_id) REFERENCES text_account_numbers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX texts_account ON texts (tenant_id, account_id, created_at);
CREATE INDEX texts_reply ON texts (tenant_id, sender, target, created_at);
