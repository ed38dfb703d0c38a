-- Outbound webhooks: events pushed to a tenant's HTTP endpoint (the contact center's chat events,
-- ccai.md §1.12), each written with its `webhooks.send` job in the transaction that caused it and
-- POSTed, signed, by a worker. The body is stored as the exact bytes that are signed and sent, so
-- every retry carries the same bytes.
CREATE TABLE outbound_webhooks (
  tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  -- Enqueue order: events of one ordering key (a chat) are sent in this order.
  seq              bigint GENERATED ALWAYS AS IDENTITY,
  -- What the event is about (`chat.message_received`); the tenant's target is chosen by it.
  topic            text NOT NULL CHECK (topic ~ '^[A-Za-z0-9_.:/-]{1,200}$'),
  -- Events with the same key (`chat:<id>`) are delivered one after another; NULL: no ordering.
  ordering_key     text CHECK (length(ordering_key) BETWEEN 1 AND 200),
  idempotency_key  text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 200),
  -- The serialised JSON body (text, not jsonb: jsonb would reorder keys and change the bytes).
  body             text NOT NULL CHECK (length(body) <= 262144),
  -- pending: waiting for (another) attempt; delivered: a 2xx answer; failed: refused for good or
  -- out of attempts; dropped: the tenant has no target for the topic (last_error_code no_target).
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed', 'dropped')),
  attempts         integer NOT NULL DEFAULT 0,
  -- Where the last attempt went (the target may change between attempts).
  url              text,
  response_status  integer,
  last_error_code  text,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  delivered_at     timestamptz,
  UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX outbound_webhooks_tenant_newest ON outbound_webhooks (tenant_id, created_at DESC, id DESC);
-- The ordering check: is an earlier event of this key still pending?
CREATE INDEX outbound_webhooks_pending_order ON outbound_webhooks (tenant_id, ordering_key, seq)
  WHERE status = 'pending' AND ordering_key IS NOT NULL;
