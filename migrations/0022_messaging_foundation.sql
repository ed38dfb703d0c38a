-- The messaging API (JSON:API, spec/courier.md): its API key is presented alone (`Bearer <key>`),
-- so the credential is found by the secret's hash.
CREATE INDEX tenant_credentials_secret ON tenant_credentials (surface, kind, secret_hash) WHERE revoked_at IS NULL;

-- Organisation preferences (#82, #83): one value per organisation and name, set explicitly;
-- names not set here read as their defaults.
CREATE TABLE msg_org_preferences (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  organization_id  uuid NOT NULL,
  name             text NOT NULL,
  type             text NOT NULL,
  value            text,
  value_js         jsonb,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, organization_id, name)
);
