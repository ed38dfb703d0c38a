-- Credential secrets that must be recoverable, not only checked: the contact-center company secret
-- verifies HS256 signatures (custom data), which needs the secret itself. It is kept sealed with
-- AES-256-GCM under the master key (SWITCHBOARD_SECRET_KEY), as provider settings are; the hash
-- stays and remains what authentication compares. Rows made before this column exist have only the
-- hash (NULL here) until the secret is rotated (`switchboard tenant rotate-company-secret`).
ALTER TABLE tenant_credentials ADD COLUMN secret_sealed text;

-- A sealed value always has the `v1.<iv>.<tag>.<ciphertext>` shape, so a plaintext secret written
-- here by mistake is refused by the database rather than stored readable.
ALTER TABLE tenant_credentials ADD CONSTRAINT tenant_credentials_secret_sealed_shape
  CHECK (secret_sealed IS NULL OR secret_sealed ~ '^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$');

-- Announce every changed or removed credential on `switchboard_credentials_changed`, payload
-- `<surface> <kind> <key>`, so that every process drops what it cached of it: a rotated secret stops
-- authenticating everywhere as the change commits, not only in the process that made it.
CREATE FUNCTION notify_credentials_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('switchboard_credentials_changed', OLD.surface || ' ' || OLD.kind || ' ' || OLD.key);
  RETURN NULL;
END $$;

CREATE TRIGGER tenant_credentials_changed AFTER UPDATE OR DELETE ON tenant_credentials
  FOR EACH ROW EXECUTE FUNCTION notify_credentials_changed();
