-- Deleting an account sets these references to NULL: without an index each delete scans the table.
CREATE INDEX event_history_account_idx ON event_history (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX events_created_by_idx ON events (created_by) WHERE created_by IS NOT NULL;
CREATE INDEX invitations_invited_by_idx ON invitations (invited_by) WHERE invited_by IS NOT NULL;
-- Pruning expired refresh tokens.
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);
