-- A profile's ETag is its users row's xmin, but its `groups` come from group_members. Every statement that changes
-- memberships (the group member routes, a profile's PUT/PATCH, a group's deletion cascading to its members) touches
-- the affected users rows in the same transaction, so their ETags move with their groups: If-None-Match no longer
-- answers 304 with stale groups, and If-Match refuses a PUT built from them.
--
-- Statement-level with transition tables: one UPDATE per statement however many rows it changed (a group's deletion
-- touches all its members at once). Touching a user takes its row lock, so the service's membership writes lock the
-- users rows before they touch group_members (UserProfiles.LockForMembership, DeleteGroup): then this finds them held
-- already. Any other writer gets them here in id order, so two such statements cannot deadlock on each other.
--
-- The touch sets created_at to itself: never role or is_active, so 0011's `user_changed` trigger does not fire.
-- Membership is not access (sessions and their cache hold only role and activity), so a membership change must not
-- announce a user change, which would make every instance drop the member's cached sessions.
CREATE FUNCTION group_members_touch_users() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    members bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        members := ARRAY(SELECT user_id FROM added);
    ELSIF TG_OP = 'DELETE' THEN
        members := ARRAY(SELECT user_id FROM removed);
    ELSE
        members := ARRAY(SELECT user_id FROM added UNION ALL SELECT user_id FROM removed);
    END IF;
    UPDATE users u SET created_at = u.created_at
    FROM (SELECT id FROM users WHERE id = ANY (members) ORDER BY id FOR NO KEY UPDATE) locked
    WHERE u.id = locked.id;
    RETURN NULL;
END;
$$;

-- A trigger with transition tables serves one event, hence three.
CREATE TRIGGER group_members_touch_users_on_insert AFTER INSERT ON group_members
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION group_members_touch_users();
CREATE TRIGGER group_members_touch_users_on_delete AFTER DELETE ON group_members
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION group_members_touch_users();
CREATE TRIGGER group_members_touch_users_on_update AFTER UPDATE ON group_members
    REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION group_members_touch_users();
