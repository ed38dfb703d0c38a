-- Announce every change to a person (and their identities) on the channel
-- `switchboard_person_changed`, payload the core person id, so that every process can drop what it
-- cached of that person. NOTIFY is transactional: listeners hear of a change only once committed.
CREATE FUNCTION notify_person_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'people' THEN
    PERFORM pg_notify('switchboard_person_changed', OLD.id::text);
  ELSE
    PERFORM pg_notify('switchboard_person_changed', OLD.person_id::text);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER people_changed AFTER UPDATE OR DELETE ON people
  FOR EACH ROW EXECUTE FUNCTION notify_person_changed();
CREATE TRIGGER person_identities_changed AFTER UPDATE OR DELETE ON person_identities
  FOR EACH ROW EXECUTE FUNCTION notify_person_changed();
