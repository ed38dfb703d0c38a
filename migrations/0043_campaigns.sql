-- Outbound campaigns (issue 12, item 5, without the dialer): campaigns declared in the
-- contact-center setup file (ids stable by name across reloads, gone ones marked deleted), their
-- contacts (Apps API K1-K7) and the import jobs of K3-K5. Integer ids per tenant from cc_counters
-- (kinds 'campaign', 'campaign_contact', 'campaign_import').

CREATE TABLE cc_campaigns (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  num            integer NOT NULL,
  name           text NOT NULL,
  caller_id      text NOT NULL,
  menu_id        uuid NOT NULL,
  mode           text NOT NULL CHECK (mode IN ('preview', 'progressive', 'predictive')),
  pacing_ratio   real NOT NULL CHECK (pacing_ratio >= 1),
  -- Weekly calling hours, read in each contact's time zone; retry rules (max attempts, delay, statuses).
  calling_hours  jsonb NOT NULL,
  retry          jsonb NOT NULL,
  deleted        boolean NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, num),
  UNIQUE (tenant_id, name),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, menu_id) REFERENCES cc_menus (tenant_id, id)
);

CREATE TABLE cc_campaign_contacts (
  id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id                uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  num                      integer NOT NULL,
  campaign_id              uuid NOT NULL,
  name                     text NOT NULL DEFAULT '',
  email                    text,
  phone                    text NOT NULL,
  outbound_number          text,
  unique_id                text,
  priority                 integer,
  status                   text NOT NULL,
  assigned_call_id         integer,
  assigned_participant_id  integer,
  created_at               timestamptz NOT NULL DEFAULT now(),
  updated_at               timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, num),
  UNIQUE (tenant_id, campaign_id, phone),
  FOREIGN KEY (tenant_id, campaign_id) REFERENCES cc_campaigns (tenant_id, id) ON DELETE CASCADE
);
-- K2 lists a campaign's contacts in id order.
CREATE INDEX cc_campaign_contacts_campaign ON cc_campaign_contacts (tenant_id, campaign_id, num);

CREATE TABLE cc_campaign_imports (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  num            integer NOT NULL,
  campaign_id    uuid NOT NULL,
  status         text NOT NULL CHECK (status IN ('created', 'in_progress', 'finished', 'failed')),
  filename       text NOT NULL,
  format         text NOT NULL CHECK (format IN ('json', 'csv')),
  -- The uploaded file, kept until the job has read it (then emptied).
  file           bytea,
  total_rows     integer NOT NULL DEFAULT 0,
  imported_rows  integer NOT NULL DEFAULT 0,
  failed_rows    integer NOT NULL DEFAULT 0,
  errors         jsonb NOT NULL DEFAULT '[]'::jsonb,
  created_at     timestamptz NOT NULL DEFAULT now(),
  finished_at    timestamptz,
  UNIQUE (tenant_id, num),
  FOREIGN KEY (tenant_id, campaign_id) REFERENCES cc_campaigns (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX cc_campaign_imports_campaign ON cc_campaign_imports (tenant_id, campaign_id, num);
