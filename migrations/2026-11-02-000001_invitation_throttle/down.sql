DELETE FROM auth_attempts WHERE action = 'invite';
ALTER TABLE auth_attempts DROP CONSTRAINT auth_attempts_action_check;
ALTER TABLE auth_attempts ADD CONSTRAINT auth_attempts_action_check
    CHECK (action IN ('login', 'register'));
