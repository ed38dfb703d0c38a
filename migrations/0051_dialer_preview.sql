-- The dialer's preview mode (issue 12, item 5): each round the campaign's runner offers the next
-- dialable contact (Upcoming or Skipped) to an idle agent of its queue; the agent dials it, skips
-- it (back to the pool) or skips and closes it (terminal), or lets the offer lapse at `expires_at`.
-- One open offer per contact and one per agent, held by the database (two runners, or a runner and
-- an agent's action, cannot both win). Closed offers are kept: an agent who skipped a contact, or
-- let its offer lapse, is not offered it again for a while (the dialer's `previewRepeatMs`).

CREATE TABLE cc_preview_offers (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  campaign_id  uuid NOT NULL,
  contact_id   uuid NOT NULL REFERENCES cc_campaign_contacts (id) ON DELETE CASCADE,
  agent_id     uuid NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  -- open; dialled (the agent placed the call), skipped, closed (skipped & closed), expired, withdrawn.
  result       text NOT NULL DEFAULT 'open' CHECK (result IN ('open', 'dialled', 'skipped', 'closed', 'expired', 'withdrawn')),
  acted_at     timestamptz,
  -- The call the agent placed (its Apps API id).
  call_num     integer
);
CREATE UNIQUE INDEX cc_preview_offers_open_contact ON cc_preview_offers (tenant_id, contact_id) WHERE result = 'open';
CREATE UNIQUE INDEX cc_preview_offers_open_agent ON cc_preview_offers (tenant_id, agent_id) WHERE result = 'open';
CREATE INDEX cc_preview_offers_campaign ON cc_preview_offers (tenant_id, campaign_id, result, expires_at);
CREATE INDEX cc_preview_offers_agent_contact ON cc_preview_offers (tenant_id, agent_id, contact_id, acted_at);

-- A campaign's preview settings (setup `preview`: `offer_timeout`, `repeat_after`), stored as given.
ALTER TABLE cc_campaigns ADD COLUMN preview jsonb NOT NULL DEFAULT '{}'::jsonb;
