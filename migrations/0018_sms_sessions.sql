-- SMS sessions of the contact center (Apps API S1, issue 9 item 6): a "Messaging (SMS)" chat whose
-- end user is a phone. The phone is kept on the session so an inbound SMS finds its session, and
-- the database holds at most one active SMS session per consumer and tenant (two concurrent
-- POST /sms for one number: one wins, the other gets "Consumer is already in an active SMS session").
ALTER TABLE cc_sessions ADD COLUMN end_user_phone text;
ALTER TABLE cc_sessions ADD COLUMN out_ticket_id text;
CREATE UNIQUE INDEX cc_sessions_active_sms ON cc_sessions (tenant_id, end_user_phone)
  WHERE end_user_phone IS NOT NULL AND status NOT IN ('finished', 'deflected', 'failed', 'timeout');

-- Where a session message came from, when it came from outside (`inbound:<inbound message id>`):
-- a retried inbound handler stores the message once.
ALTER TABLE cc_messages ADD COLUMN source_key text;
CREATE UNIQUE INDEX cc_messages_source_key ON cc_messages (tenant_id, source_key) WHERE source_key IS NOT NULL;
