-- CRM tickets of the built-in CRM adapter (issue 12, item 3; spec/ccai.md §2.1 `ticket_id`):
-- a ticket and its contact (name, phone, email), kept in Switchboard. `ticket_id` is the id the
-- Apps API names it by (`ticket_id`, `out_ticket_id`), unique per tenant; `contact_id` is the
-- contact's CRM id that mid-session authentication (C5) links to the end user (`out_contact_id`).
CREATE TABLE crm_tickets (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  ticket_id      text NOT NULL,
  subject        text,
  contact_id     text NOT NULL,
  contact_name   text,
  -- E.164, or null: a ticket without a dialable contact ("Contact not found").
  contact_phone  text,
  -- Lower-cased.
  contact_email  text,
  -- Where it was last written from: 'admin' (the admin API) or 'setup' (the contact-center setup file).
  source         text NOT NULL DEFAULT 'admin',
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, ticket_id)
);
-- The privacy purge finds a subject's tickets by their phone or e-mail address.
CREATE INDEX crm_tickets_phone ON crm_tickets (tenant_id, contact_phone) WHERE contact_phone IS NOT NULL;
CREATE INDEX crm_tickets_email ON crm_tickets (tenant_id, contact_email) WHERE contact_email IS NOT NULL;
