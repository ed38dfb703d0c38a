-- The scheduler that fires check-ins and autopings (scheduled_notifications, 0004), and the queue
-- the Notification API reads for `web` people.

-- failed: could not be fired (its thread is gone, the person has no address, or every retry failed);
-- last_error says why.
ALTER TABLE scheduled_notifications DROP CONSTRAINT IF EXISTS scheduled_notifications_status_check;
ALTER TABLE scheduled_notifications ADD CONSTRAINT scheduled_notifications_status_check
  CHECK (status IN ('pending', 'fired', 'cancelled', 'failed'));

ALTER TABLE scheduled_notifications
  -- Fired for a `web` person: nothing was sent; it waits for the client app to fetch it
  -- (GET /notifications), which deletes it.
  ADD COLUMN queued boolean NOT NULL DEFAULT false,
  -- Failed firing attempts so far, and when the next one may run (NULL: as soon as it is due).
  ADD COLUMN attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  ADD COLUMN retry_at timestamptz,
  ADD COLUMN last_error text;

-- A web person's fired notifications, waiting for the Notification API.
CREATE INDEX scheduled_notifications_queued ON scheduled_notifications (tenant_id, person_id) WHERE queued AND status = 'fired';
