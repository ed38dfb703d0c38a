-- A text account's own webhook secret at its vendor (issue 13, item 4): Twilio signs the webhooks of a
-- sub-account's numbers with the sub-account's auth token, which the account's creation answers with.
-- Sealed (AES-256-GCM under SWITCHBOARD_SECRET_KEY, as provider settings are); null on the sandbox and
-- for accounts made before this migration (their numbers' webhooks are then checked with the parent's token only).
ALTER TABLE text_accounts ADD COLUMN provider_secret text;
CREATE INDEX text_accounts_provider_account ON text_accounts (tenant_id, provider, provider_account_id);
