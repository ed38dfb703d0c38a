-- Foundation: tenants with per-surface credentials, and the cross-surface person directory.

CREATE TABLE tenants (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
  -- public code used by the web chat embed (`auth_code`); not a secret
  embed_code  text NOT NULL UNIQUE,
  settings    jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per credential a tenant holds on a surface. `key` is the public half (Cass client name,
-- contact-center subdomain, courier organization id); `secret_hash` is SHA-256 of the secret, which
-- is random and high-entropy, so a fast hash is sufficient and keeps per-request checks cheap.
CREATE TABLE tenant_credentials (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  surface      text NOT NULL CHECK (surface IN ('cass', 'ccai', 'courier')),
  kind         text NOT NULL CHECK (kind IN ('token', 'company_secret', 'api_key')),
  key          text NOT NULL,
  secret_hash  text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz,
  UNIQUE (surface, kind, key)
);
CREATE INDEX tenant_credentials_tenant ON tenant_credentials (tenant_id);

-- Legacy integer person ids (Cass "1943"), global like the vendor's.
CREATE SEQUENCE person_legacy_id_seq START 1000;

-- The core person: one row per human an organisation serves, whatever surface registered them.
CREATE TABLE people (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  first_name         text,
  last_name          text,
  phone              text CHECK (phone ~ '^\+[1-9][0-9]{1,14}$'),
  email              text,
  external_id        text,
  external_username  text,
  external_org       text,
  external_data_1    text,
  external_data_2    text,
  external_data_3    text,
  protocol           text NOT NULL DEFAULT 'sms' CHECK (protocol IN ('sms', 'sandbox', 'facebook', 'WHATSAPP', 'web')),
  language_type      text,
  gender             text,
  timezone           text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX people_tenant_phone ON people (tenant_id, phone) WHERE phone IS NOT NULL;
CREATE UNIQUE INDEX people_tenant_external_id ON people (tenant_id, external_id) WHERE external_id IS NOT NULL;

-- external_id links two systems and must never change once set.
CREATE FUNCTION people_external_id_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.external_id IS NOT NULL AND NEW.external_id IS DISTINCT FROM OLD.external_id THEN
    RAISE EXCEPTION 'external_id is immutable' USING ERRCODE = 'check_violation', CONSTRAINT = 'people_external_id_immutable';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER people_external_id_immutable BEFORE UPDATE OF external_id ON people
  FOR EACH ROW EXECUTE FUNCTION people_external_id_immutable();

-- A person's identity on one surface: the Cass person id (UUID) and legacy integer id, the
-- contact-center end-user id, the messaging individual id. Public ids are unique across tenants so
-- that a request naming another tenant's person can be told apart from an unknown id.
CREATE TABLE person_identities (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL,
  person_id   uuid NOT NULL,
  surface     text NOT NULL CHECK (surface IN ('cass', 'ccai', 'courier')),
  public_id   text NOT NULL,
  legacy_id   bigint,
  created_at  timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (tenant_id, person_id) REFERENCES people (tenant_id, id) ON DELETE CASCADE,
  UNIQUE (surface, public_id),
  UNIQUE (person_id, surface)
);
CREATE UNIQUE INDEX person_identities_legacy ON person_identities (surface, legacy_id) WHERE legacy_id IS NOT NULL;

-- Stable relation for SQL readers (Metabase): one row per person, with the Cass ids.
CREATE VIEW person AS
SELECT
  i.public_id        AS person_id,
  i.legacy_id        AS legacy_person_id,
  p.id               AS core_person_id,
  t.id               AS tenant_id,
  t.name             AS client_name,
  p.first_name, p.last_name, p.phone, p.email,
  p.external_id, p.external_username, p.external_org,
  p.external_data_1, p.external_data_2, p.external_data_3,
  p.protocol, p.language_type, p.gender, p.timezone,
  p.created_at, p.updated_at
FROM people p
JOIN tenants t ON t.id = p.tenant_id
LEFT JOIN person_identities i ON i.person_id = p.id AND i.surface = 'cass';

-- The tenant's bot threads by name. The bot runtime adds versions and steps; the person API
-- already validates `initial_thread_name` against this table.
CREATE TABLE bot_threads (
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name        text NOT NULL,
  definition  jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, name)
);
