-- Invitations are throttled too, per organizer (the subject is its id), in the same table:
-- every instance counts the same invitations.
ALTER TABLE auth_attempts DROP CONSTRAINT auth_attempts_action_check;
ALTER TABLE auth_attempts ADD CONSTRAINT auth_attempts_action_check
    CHECK (action IN ('login', 'register', 'invite'));
