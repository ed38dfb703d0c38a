-- The messaging API's directory (spec/courier.md §0, #24, #25, #135–#137), imported by the operator
-- (`switchboard directory import`, `POST /admin/directory`) and read-only in the API.

-- Sub-organisations (clinics) of the tenant's organisation, keyed by the file's external id.
CREATE TABLE msg_organizations (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  external_id   text NOT NULL,
  name          text NOT NULL,
  display_name  text,
  timezone      text NOT NULL DEFAULT 'UTC',
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, external_id),
  UNIQUE (tenant_id, id)
);

-- What the directory knows of an individual beyond the core person (an individual IS a person:
-- its id is the person's Cass person_id). A person without a row here reads with the defaults.
CREATE TABLE msg_individuals (
  person_id       uuid PRIMARY KEY,
  tenant_id       uuid NOT NULL,
  account_type    text NOT NULL DEFAULT 'patient',
  birth_date      date,
  preferred_name  text,
  -- The owning organisation: the tenant's (its id) or a clinic's; NULL means the tenant's.
  owner_id        uuid,
  synced_at       timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (tenant_id, person_id) REFERENCES people (tenant_id, id) ON DELETE CASCADE
);

-- Care-team members, keyed by email (lowercased); `token_hash` is the SHA-256 of their user token.
CREATE TABLE msg_users (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  email           text NOT NULL,
  username        text,
  first_name      text,
  last_name       text,
  phone           text,
  locale          text,
  tz              text,
  person_id       uuid,
  notifications   jsonb NOT NULL DEFAULT '[]',
  sms_mode        text NOT NULL DEFAULT 'disabled',
  state           text NOT NULL DEFAULT 'active',
  token_hash      text,
  synced_at       timestamptz NOT NULL DEFAULT now(),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, email),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, person_id) REFERENCES people (tenant_id, id) ON DELETE SET NULL (person_id)
);
CREATE UNIQUE INDEX msg_users_token ON msg_users (token_hash) WHERE token_hash IS NOT NULL;
CREATE INDEX msg_users_person ON msg_users (tenant_id, person_id) WHERE person_id IS NOT NULL;

-- Individual groups (care teams): a name, a parent group, the organisation, and members.
CREATE TABLE msg_individual_groups (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  external_id      text NOT NULL,
  name             text NOT NULL,
  parent_id        uuid,
  organization_id  uuid NOT NULL,
  synced_at        timestamptz NOT NULL DEFAULT now(),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, external_id),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, parent_id) REFERENCES msg_individual_groups (tenant_id, id) ON DELETE SET NULL (parent_id)
);

-- A group's members: individuals (the people cared for) and users (the care team, its leaders).
CREATE TABLE msg_group_individuals (
  tenant_id  uuid NOT NULL,
  group_id   uuid NOT NULL,
  person_id  uuid NOT NULL,
  PRIMARY KEY (group_id, person_id),
  FOREIGN KEY (tenant_id, group_id) REFERENCES msg_individual_groups (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, person_id) REFERENCES people (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX msg_group_individuals_person ON msg_group_individuals (person_id);
CREATE TABLE msg_group_users (
  tenant_id  uuid NOT NULL,
  group_id   uuid NOT NULL,
  user_id    uuid NOT NULL,
  PRIMARY KEY (group_id, user_id),
  FOREIGN KEY (tenant_id, group_id) REFERENCES msg_individual_groups (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, user_id) REFERENCES msg_users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX msg_group_users_user ON msg_group_users (user_id);
