-- The console's person page, second slice (issue 11): what a console user did to a person (edited
-- them, recorded a consent, added or lifted a suppression) is kept as an activity of the person,
-- shown in their one timeline; the timeline can be paged with a cursor; and a change of anyone's
-- timeline is announced, so an open person page updates live.

-- One thing a console user did to a person, in the same transaction as the change itself.
CREATE TABLE person_activities (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL,
  person_id   uuid NOT NULL,
  -- `person_edited`, `consent_given`, `consent_withdrawn`, `suppression_added`, `suppression_lifted`.
  kind        text NOT NULL,
  -- What the timeline shows, written when it happened.
  text        text NOT NULL,
  -- Who did it: `console:<email>` (a console user), or another source's name.
  actor       text NOT NULL,
  details     jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  FOREIGN KEY (tenant_id, person_id) REFERENCES people (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX person_activities_person ON person_activities (tenant_id, person_id, created_at DESC);

-- The one timeline: the transcript (messages in and out on every surface) and the activities.
-- `id` is text so that both kinds share one cursor order: (created_at, id), newest first.
CREATE VIEW person_timeline AS
SELECT
  t.message_id::text AS id, t.tenant_id, t.core_person_id AS person_id, 'message'::text AS kind,
  t.direction, t.channel, t.text, t.thread_name, NULL::text AS actor, t.created_at
FROM transcript t
WHERE t.core_person_id IS NOT NULL
UNION ALL
SELECT
  a.id::text, a.tenant_id, a.person_id, a.kind,
  NULL, 'console', a.text, NULL, a.actor, a.created_at
FROM person_activities a;

-- Live timelines: announce `<tenant id>:<person id>` on `switchboard_timeline` for every person
-- whose timeline gained an entry, once per statement (a bulk send writes many rows in one
-- statement), several keys comma-separated per notification (at most 100: NOTIFY payloads stop at
-- 8000 bytes). Transactional: a page hears of an entry only once it is committed. Listeners read
-- the timeline themselves.
CREATE FUNCTION notify_timeline_keys(keys text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  chunk text;
BEGIN
  FOR chunk IN
    SELECT string_agg(k, ',') FROM (SELECT k, (row_number() OVER () - 1) / 100 AS n FROM unnest(keys) k) c GROUP BY n
  LOOP
    PERFORM pg_notify('switchboard_timeline', chunk);
  END LOOP;
END $$;

CREATE FUNCTION notify_timeline_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM notify_timeline_keys(ARRAY(
    SELECT DISTINCT tenant_id::text || ':' || person_id::text FROM new_rows WHERE person_id IS NOT NULL));
  RETURN NULL;
END $$;

-- A care-team channel message is in its author's timeline and in every other subscriber's.
CREATE FUNCTION notify_timeline_channel_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM notify_timeline_keys(ARRAY(
    SELECT DISTINCT k FROM (
      SELECT m.tenant_id::text || ':' || m.author_id::text AS k FROM new_rows m WHERE m.author_id IS NOT NULL AND NOT m.draft
      UNION
      SELECT s.tenant_id::text || ':' || s.individual_id::text FROM new_rows m
      JOIN msg_channel_subscribers s ON s.tenant_id = m.tenant_id AND s.channel_id = m.channel_id
      WHERE NOT m.draft
    ) keys));
  RETURN NULL;
END $$;

CREATE TRIGGER transcript_messages_timeline AFTER INSERT ON transcript_messages
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION notify_timeline_rows();
CREATE TRIGGER outbox_messages_timeline AFTER INSERT ON outbox_messages
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION notify_timeline_rows();
CREATE TRIGGER inbound_messages_timeline AFTER INSERT ON inbound_messages
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION notify_timeline_rows();
CREATE TRIGGER person_activities_timeline AFTER INSERT ON person_activities
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION notify_timeline_rows();
CREATE TRIGGER msg_messages_timeline AFTER INSERT ON msg_messages
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION notify_timeline_channel_messages();
