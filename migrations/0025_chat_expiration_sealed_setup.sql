-- Contact-center loose ends (issue 9): chat expiration, setup versions without clear secrets, and
-- the index of an end user's sessions.

-- §4.2 `queued`/`assigned` → `timeout`: the setup's `settings.chat_expiration_timeout` (default 24h),
-- driven by the chat lifecycle sweep.
ALTER TABLE cc_settings ADD COLUMN chat_expiration_seconds integer NOT NULL DEFAULT 86400 CHECK (chat_expiration_seconds > 0);

-- Setup versions keep no clear secret: agents' clear passwords are replaced by their hashes and the
-- webhook secrets are sealed under the master key. Rows written before this version (and by an
-- older process during a rolling upgrade) are `redacted = false`. SQL cannot seal with our key nor
-- hash a password with scrypt, so the rewrite of those rows is a TypeScript step run after the
-- migrations by `switchboard migrate` and at every start (`redactStoredSetupVersions`): once per
-- row, idempotent (it only reads rows still `false`, and sets them `true` in the same transaction).
ALTER TABLE cc_setup_versions ADD COLUMN redacted boolean NOT NULL DEFAULT false;
CREATE INDEX cc_setup_versions_unredacted ON cc_setup_versions (tenant_id, version) WHERE NOT redacted;

-- A person's contact-center sessions (cc_sessions.person_id, from 0016), for lookups by person (a
-- person's history, erasure of a person).
CREATE INDEX IF NOT EXISTS cc_sessions_person ON cc_sessions (tenant_id, person_id);
