-- Suppression addresses that are UUIDs or hexadecimal tokens (individual ids, APNs device tokens)
-- are kept in lower case, as the service now normalises them: an entry written in upper case before
-- would no longer be found. Where both cases exist the lower-case entry stays and the other goes.
DELETE FROM suppressions s
 WHERE s.address ~ '^[0-9A-Fa-f]+(-[0-9A-Fa-f]+)*$' AND s.address <> lower(s.address)
   AND EXISTS (SELECT 1 FROM suppressions o WHERE o.tenant_id = s.tenant_id AND o.scope = s.scope AND o.address = lower(s.address));
UPDATE suppressions SET address = lower(address)
 WHERE address ~ '^[0-9A-Fa-f]+(-[0-9A-Fa-f]+)*$' AND address <> lower(address);
