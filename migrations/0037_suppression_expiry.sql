-- Suppression entries may expire (the contact center's company Do-Not-Call list, D1 `expires_at`):
-- NULL is permanent; an entry whose `expires_at` has passed is treated as absent everywhere (the
-- send path, the DNC check, the admin list), and a new entry for the same scope and address
-- replaces it. The lookups stay on the unique (tenant_id, address, scope) index: the expiry is a
-- filter on the one or few rows of that address, so no index is needed on it.
ALTER TABLE suppressions ADD COLUMN expires_at timestamptz;
