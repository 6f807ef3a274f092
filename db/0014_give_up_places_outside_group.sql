-- A place in an upcoming training (dated today or later, the UTC date as the service counts days) belongs to a member
-- of the training's group. Two kinds of write could break that, and a trigger on each keeps it in the same transaction,
-- so that no writer can forget it:
--   * leaving a group, by any statement that deletes (or rewrites) a membership — the member route, a profile's
--     `groups`, a group's deletion: the leaver's places in that group's upcoming trainings are given up;
--   * moving a training to another group, or rescheduling it from the past to today or later: the places of users who
--     are not members of its group are given up.
-- Enrolments in past trainings and all attendance records stay: they are history. 0004's trigger lowers
-- trainings.enrolled with every place given up, so the place is free at once.
--
-- Concurrency. Every writer takes its locks in one order: groups, users, memberships, trainings (in id order), and a
-- training's row before its enrolments — the order in which deleting a training takes them (the row, then the cascade),
-- and in which enrolling and leaving now take them (EnrollInTraining, LeaveTraining). Statements run with a fresh
-- snapshot each, so whichever of two conflicting writes waits sees what the other committed:
--   * a removal from a group holds that group for share (UserProfiles.LockForMembership), and a training's update holds
--     its (new) group for no key update first (UpdateTraining): a move into the group and a removal from it wait for
--     each other;
--   * the membership trigger locks the group's upcoming trainings before it gives up places, and an enrolment locks the
--     training before it reads the membership: an enrolment in flight is waited for and its place given up, and a later
--     one finds the membership gone.

-- "Today" for training dates: the UTC date of the transaction's start.
CREATE FUNCTION trainings_today() RETURNS date LANGUAGE sql STABLE AS $$ SELECT (now() AT TIME ZONE 'UTC')::date $$;

CREATE FUNCTION group_members_give_up_places() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The upcoming trainings of the groups left: an enrolment in one of them holds its row from before it reads the
    -- membership (EnrollInTraining). Trainings cannot move into those groups meanwhile (see the lock order above).
    PERFORM 1 FROM trainings t
    WHERE t.group_id IN (SELECT group_id FROM removed) AND t.date >= trainings_today()
    ORDER BY t.id
    FOR NO KEY UPDATE;

    DELETE FROM training_enrollments e
    USING trainings t, removed r
    WHERE e.training_id = t.id AND r.group_id = t.group_id AND r.user_id = e.user_id AND t.date >= trainings_today()
      AND NOT EXISTS (SELECT 1 FROM group_members gm WHERE gm.group_id = t.group_id AND gm.user_id = e.user_id);
    RETURN NULL;
END;
$$;

CREATE TRIGGER group_members_give_up_places_on_delete AFTER DELETE ON group_members
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION group_members_give_up_places();
CREATE TRIGGER group_members_give_up_places_on_update AFTER UPDATE ON group_members
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION group_members_give_up_places();

-- The training's row is locked already (it is the row being updated).
CREATE FUNCTION trainings_give_up_places_outside_group() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.date >= trainings_today() THEN
        DELETE FROM training_enrollments e
        WHERE e.training_id = NEW.id
          AND NOT EXISTS (SELECT 1 FROM group_members gm WHERE gm.group_id = NEW.group_id AND gm.user_id = e.user_id);
    END IF;
    RETURN NULL;
END;
$$;

-- 0004's counter writes only `enrolled`, so it does not fire this.
CREATE TRIGGER trainings_give_up_places_outside_group AFTER UPDATE OF group_id, date ON trainings
    FOR EACH ROW WHEN (OLD.group_id IS DISTINCT FROM NEW.group_id OR OLD.date IS DISTINCT FROM NEW.date)
    EXECUTE FUNCTION trainings_give_up_places_outside_group();
