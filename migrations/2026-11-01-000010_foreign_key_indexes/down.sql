DROP INDEX refresh_tokens_expires_idx;
DROP INDEX invitations_invited_by_idx;
DROP INDEX events_created_by_idx;
DROP INDEX event_history_account_idx;
