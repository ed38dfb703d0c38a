-- Message templates (issue 13, item 1): declared in a template file the operator loads (`switchboard
-- templates load`, `PUT /admin/templates`), like the bot's threads. Every load is a new version; the
-- highest version is current. Multicasts render a template per recipient.

CREATE TABLE template_versions (
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  version     integer NOT NULL CHECK (version >= 1),
  -- The validated document (`{templates: {id: {data-schema, push, sms, email, in-app, languages}}}`).
  document    jsonb NOT NULL,
  -- The file as loaded (YAML or JSON), shown back by GET /admin/templates.
  source      text NOT NULL,
  format      text NOT NULL CHECK (format IN ('yaml', 'json')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, version)
);

-- The tenant's current templates by id, one row each, rewritten on every load (`version` says which).
CREATE TABLE templates (
  tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  template_id  text NOT NULL,
  definition   jsonb NOT NULL,
  version      integer NOT NULL,
  PRIMARY KEY (tenant_id, template_id)
);
