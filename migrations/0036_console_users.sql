-- The web console's sign-ins (issue 11): console users per tenant with a role, their sessions, and
-- the failed sign-ins that lock an account or an address out for a while.

-- A console user: an email and a scrypt password hash (src/lib/passwords.ts), one role. The email
-- is unique per tenant (case-insensitive); sign-in names the organisation only when one email is
-- a user of several tenants.
CREATE TABLE console_users (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  email          text NOT NULL,
  name           text,
  role           text NOT NULL CHECK (role IN ('owner', 'admin', 'supervisor', 'agent', 'clinician')),
  password_hash  text NOT NULL,
  created_by     uuid,
  created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  disabled_at    timestamptz,
  UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX console_users_email ON console_users (tenant_id, lower(email));
CREATE INDEX console_users_email_any ON console_users (lower(email));

-- A signed-in browser: the cookie's token is kept only as its SHA-256 hash.
CREATE TABLE console_sessions (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id      uuid NOT NULL,
  user_id        uuid NOT NULL,
  token_hash     text NOT NULL UNIQUE,
  address        text,
  created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  last_seen_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  expires_at     timestamptz NOT NULL,
  FOREIGN KEY (tenant_id, user_id) REFERENCES console_users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX console_sessions_user ON console_sessions (tenant_id, user_id);

-- Failed sign-ins, by key (`email:<lower email>` and `address:<ip>`): five within fifteen minutes
-- lock that key until the oldest of them is fifteen minutes old. Shared by every API process.
CREATE TABLE console_sign_in_failures (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  key        text NOT NULL,
  failed_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX console_sign_in_failures_key ON console_sign_in_failures (key, failed_at DESC);
