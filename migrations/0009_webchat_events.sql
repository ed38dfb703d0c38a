-- Live web chat: announce every change a web chat page must show, on the channel
-- `switchboard_webchat`, payload `<tenant id>:<core person id>` (ids only: NOTIFY payloads are
-- limited to 8000 bytes, so listeners read the rows themselves). NOTIFY is transactional, so a
-- page hears of a message only once it is committed; identical payloads of one transaction are
-- delivered once.
CREATE FUNCTION notify_webchat_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.person_id IS NOT NULL THEN
    PERFORM pg_notify('switchboard_webchat', NEW.tenant_id::text || ':' || NEW.person_id::text);
  END IF;
  RETURN NULL;
END $$;

-- A web chat message entered the transcript (the person's message, or the bot's answer queued).
CREATE TRIGGER transcript_messages_webchat AFTER INSERT ON transcript_messages
  FOR EACH ROW WHEN (NEW.channel = 'webchat') EXECUTE FUNCTION notify_webchat_event();

-- A web chat outbox message changed status: the page shows the bot's answer once it is sent.
CREATE TRIGGER outbox_messages_webchat AFTER UPDATE OF status ON outbox_messages
  FOR EACH ROW WHEN (NEW.channel = 'webchat' AND NEW.status IS DISTINCT FROM OLD.status) EXECUTE FUNCTION notify_webchat_event();
