-- Announce every newly loaded thread version on the channel `switchboard_threads_changed`, payload
-- the tenant id, so that every process drops the tenant's current version it cached (the bot then
-- reads the current version without a query per event). NOTIFY is transactional: listeners hear of
-- a version only once it committed.
CREATE FUNCTION notify_threads_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('switchboard_threads_changed', NEW.tenant_id::text);
  RETURN NULL;
END $$;

CREATE TRIGGER bot_thread_versions_changed AFTER INSERT ON bot_thread_versions
  FOR EACH ROW EXECUTE FUNCTION notify_threads_changed();
