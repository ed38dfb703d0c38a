-- Photos, videos and files of contact-center chats: end users' uploads (presigned upload URL, then
-- attached, H6–H11) and agents' attachments (uploaded through the agent API). A row is made when an
-- upload URL is handed out, bound to its chat, so only an object uploaded for this tenant's chat can
-- be attached; it gets its per-tenant Apps API id (`num`, the media id) when attached.
CREATE TABLE cc_media (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid NOT NULL,
  num           integer,
  session_id    uuid NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('photo', 'video', 'file')),
  -- The files store key (the Apps API's `s3_path`).
  storage_key   text NOT NULL,
  photo_type    text,
  content_type  text,
  size          bigint,
  file_name     text,
  uploaded_by   text NOT NULL CHECK (uploaded_by IN ('end_user', 'agent')),
  agent_id      uuid,
  created_at    timestamptz NOT NULL DEFAULT now(),
  attached_at   timestamptz,
  CHECK ((num IS NULL) = (attached_at IS NULL)),
  UNIQUE (tenant_id, num),
  UNIQUE (tenant_id, storage_key),
  FOREIGN KEY (tenant_id, session_id) REFERENCES cc_sessions (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, agent_id) REFERENCES cc_agents (tenant_id, id)
);
CREATE INDEX cc_media_session ON cc_media (tenant_id, session_id, num);
