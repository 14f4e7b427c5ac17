DROP INDEX organizers_verified_slug_idx;
DROP TABLE invitations;
ALTER TABLE accounts DROP COLUMN last_login_at;
DROP INDEX auth_attempts_subject_idx;
ALTER TABLE auth_attempts DROP COLUMN action;
ALTER TABLE auth_attempts RENAME COLUMN attempted_at TO failed_at;
ALTER TABLE auth_attempts RENAME COLUMN subject TO email_key;
ALTER TABLE auth_attempts RENAME TO login_failures;
CREATE INDEX login_failures_email_idx ON login_failures (email_key, failed_at);
