-- The console's agent workspace (issue 11, item 3): a contact-center agent signs in to the console
-- with their agent e-mail and password; the console session keeps the agent API token it got,
-- sealed under the master key (AES-256-GCM, bound to the tenant), so a reloaded page gets it back
-- from the HTTP-only session without the token ever being stored by the browser.
ALTER TABLE console_sessions ADD COLUMN agent_token_sealed text;
