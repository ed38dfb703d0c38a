-- C1's 202 (spec/ccai.md §2.1, §5 #5; issue 12): with `confirm_outbound_calls` in the contact-center
-- settings an outbound API call waits for its agent to confirm it in the agent API before it is
-- dialled; `confirm_by` is when an unconfirmed call is cancelled (null: not waiting).
ALTER TABLE cc_settings ADD COLUMN confirm_outbound_calls boolean NOT NULL DEFAULT false;
ALTER TABLE cc_settings ADD COLUMN outbound_confirm_seconds integer NOT NULL DEFAULT 60;
ALTER TABLE cc_sessions ADD COLUMN confirm_by timestamptz;
