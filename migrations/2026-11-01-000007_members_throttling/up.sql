-- Throttling covers more than failed logins: registrations are counted per email too.
-- Rows are attempts; a key is an email (lowercased). Everything lives here, so every
-- instance behind a load balancer sees the same counts.
ALTER TABLE login_failures RENAME TO auth_attempts;
ALTER TABLE auth_attempts RENAME COLUMN email_key TO subject;
ALTER TABLE auth_attempts RENAME COLUMN failed_at TO attempted_at;
ALTER TABLE auth_attempts ADD COLUMN action TEXT NOT NULL DEFAULT 'login'
    CHECK (action IN ('login', 'register'));
ALTER TABLE auth_attempts ALTER COLUMN action DROP DEFAULT;
DROP INDEX login_failures_email_idx;
CREATE INDEX auth_attempts_subject_idx ON auth_attempts (action, subject, attempted_at);

-- When an account last logged in, shown to its organizer's members.
ALTER TABLE accounts ADD COLUMN last_login_at TIMESTAMPTZ;

-- Members invite colleagues: the invitee sets a password with the one-time token.
CREATE TABLE invitations (
    id UUID PRIMARY KEY,
    organizer_id UUID NOT NULL REFERENCES organizers (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    invited_by UUID REFERENCES accounts (id) ON DELETE SET NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    accepted_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- One pending invitation per email and organizer.
CREATE UNIQUE INDEX invitations_pending_key ON invitations (organizer_id, lower(email)) WHERE accepted_at IS NULL;

-- Listing and searching organizers.
CREATE INDEX organizers_verified_slug_idx ON organizers (verified, slug);
