-- Person change events (0003) are announced once per statement instead of once per row: the person
-- API writes concurrent updates together, one UPDATE for many people, and one notification per
-- row made that many pg_notify calls (and as many messages to every listening process). The
-- payload is now a comma-separated list of core person ids; a statement that changes more people
-- than fit in one payload (NOTIFY payloads stop at 8000 bytes) sends one notification per 150
-- ids. Still transactional: listeners hear of a change only once it is committed. A statement that
-- changes nobody announces nothing. (Transition tables allow one event per trigger, hence one
-- trigger per table and event.)
DROP TRIGGER people_changed ON people;
DROP TRIGGER person_identities_changed ON person_identities;
DROP FUNCTION notify_person_changed();

CREATE FUNCTION notify_people_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids text;
BEGIN
  FOR ids IN
    SELECT string_agg(person_id::text, ',')
    FROM (SELECT person_id, (row_number() OVER () - 1) / 150 AS chunk FROM (SELECT DISTINCT person_id FROM changed_rows) d) c
    GROUP BY chunk
  LOOP
    PERFORM pg_notify('switchboard_person_changed', ids);
  END LOOP;
  RETURN NULL;
END $$;

-- people's rows name the person `id`; the function reads `person_id`.
CREATE FUNCTION notify_people_rows_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids text;
BEGIN
  FOR ids IN
    SELECT string_agg(id::text, ',')
    FROM (SELECT id, (row_number() OVER () - 1) / 150 AS chunk FROM changed_rows) c
    GROUP BY chunk
  LOOP
    PERFORM pg_notify('switchboard_person_changed', ids);
  END LOOP;
  RETURN NULL;
END $$;

CREATE TRIGGER people_updated AFTER UPDATE ON people
  REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION notify_people_rows_changed();
CREATE TRIGGER people_deleted AFTER DELETE ON people
  REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION notify_people_rows_changed();
CREATE TRIGGER person_identities_updated AFTER UPDATE ON person_identities
  REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION notify_people_changed();
CREATE TRIGGER person_identities_deleted AFTER DELETE ON person_identities
  REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION notify_people_changed();
