-- Instances cache live sessions; a change of a user's role or active flag is announced so every instance drops
-- that user's cached sessions (revoked sessions are announced by 0007's trigger).
CREATE FUNCTION notify_user_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('user_changed', NEW.id::text);
    RETURN NEW;
END $$;

CREATE TRIGGER users_changed AFTER UPDATE OF role, is_active ON users
    FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role OR OLD.is_active IS DISTINCT FROM NEW.is_active)
    EXECUTE FUNCTION notify_user_changed();
