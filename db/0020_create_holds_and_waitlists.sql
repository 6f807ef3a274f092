-- Holds: a signed-in user keeps a scarce place (a stage slot, a training place, cassette stock, a restaurant table) for
-- minutes while they finish, then confirms it into the real thing or lets it go. Waitlists: a full training or a taken
-- stage slot keeps a line of users, a place that frees is offered to the first of them as a hold.
--
-- A hold takes its place through the same constraint that guards the real thing, so PostgreSQL, not a check in the
-- service, keeps places from being given twice:
--   * a stage slot is a placeholder row in `bookings` (hold_id set), inside bookings_no_overlap,
--   * a training place is counted in trainings.held, and trainings_within_capacity counts enrolled + held,
--   * cassette stock is taken from cassettes.quantity, as an order takes it (cassettes_quantity_not_negative),
--   * a restaurant table is a placeholder row in `restaurant_reservations` (status 'held'), inside
--     restaurant_reservations_no_overlap, which now covers confirmed and held rows: no one can have the table
--     confirmed while it is held.
-- The triggers below take the place when a hold is inserted active and give it back when it stops being active
-- (expired, released, converted), whichever statement does it: confirming gives the place back and runs the ordinary
-- create in the same transaction, under the locks that step took, so no one else gets in between.
--
-- Expiry is exact: a hold past expires_at blocks no one, even before the job that marks it expired has run, because
-- every write that a hold could stand in the way of first marks the due holds of its target expired (Holds.ExpireDue),
-- in its own transaction, under the target's lock. Lock order everywhere: the target's row (stage, training, cassette,
-- restaurant table), then the hold, then what the trigger touches.

CREATE TABLE holds (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint      NOT NULL REFERENCES users (id),
    kind        text        NOT NULL CONSTRAINT holds_kind_known
                            CHECK (kind IN ('stage_slot', 'training_place', 'cassette', 'restaurant_table')),
    status      text        NOT NULL DEFAULT 'active' CONSTRAINT holds_status_known
                            CHECK (status IN ('active', 'expired', 'released', 'converted')),
    -- Made by a waitlist offer (Waitlists), not by the user: offers do not count against Holds:MaxActivePerUser.
    offer       boolean     NOT NULL DEFAULT false,
    stage_id    bigint      REFERENCES stages (id) ON DELETE CASCADE,
    date        date,
    start_time  time,
    end_time    time,
    training_id bigint      REFERENCES trainings (id) ON DELETE CASCADE,
    cassette_id bigint      REFERENCES cassettes (id) ON DELETE CASCADE,
    quantity    integer     CONSTRAINT holds_quantity_range CHECK (quantity BETWEEN 1 AND 1000),
    table_id    bigint      REFERENCES restaurant_tables (id),
    starts_at   timestamptz,
    ends_at     timestamptz,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL,
    ended_at    timestamptz,
    -- Where the confirmed resource lives (/api/bookings/12, ...), once converted.
    location    text,
    CONSTRAINT holds_members_of_kind CHECK (
        (kind = 'stage_slot') = (stage_id IS NOT NULL AND date IS NOT NULL AND start_time IS NOT NULL AND end_time IS NOT NULL)
        AND (kind = 'training_place') = (training_id IS NOT NULL)
        AND (kind = 'cassette') = (cassette_id IS NOT NULL AND quantity IS NOT NULL)
        AND (kind = 'restaurant_table') = (table_id IS NOT NULL AND starts_at IS NOT NULL AND ends_at IS NOT NULL)),
    CONSTRAINT holds_time_range CHECK (start_time < end_time AND starts_at < ends_at),
    -- Never held for more than an hour from its creation, however often it is extended.
    CONSTRAINT holds_at_most_an_hour CHECK (offer OR expires_at <= created_at + interval '1 hour'),
    CONSTRAINT holds_ended_with_status CHECK ((status = 'active') = (ended_at IS NULL))
);
CREATE INDEX holds_user_id ON holds (user_id, id);
CREATE INDEX holds_active_user_id ON holds (user_id) WHERE status = 'active';
-- What the due-hold sweeps read, one index a kind: a hold is written into its own kind's only.
CREATE INDEX holds_active_stage ON holds (stage_id, date) WHERE status = 'active' AND kind = 'stage_slot';
CREATE INDEX holds_active_training ON holds (training_id) WHERE status = 'active' AND kind = 'training_place';
CREATE INDEX holds_active_cassette ON holds (cassette_id) WHERE status = 'active' AND kind = 'cassette';
CREATE INDEX holds_active_table ON holds (table_id) WHERE status = 'active' AND kind = 'restaurant_table';

-- Stage slots: placeholders live among the bookings, hidden from every booking route (Bookings.Visible).
ALTER TABLE bookings ADD COLUMN hold_id bigint REFERENCES holds (id) ON DELETE CASCADE;
CREATE UNIQUE INDEX bookings_hold_id ON bookings (hold_id) WHERE hold_id IS NOT NULL;

-- Training places.
ALTER TABLE trainings ADD COLUMN held integer NOT NULL DEFAULT 0 CONSTRAINT trainings_held_not_negative CHECK (held >= 0);
ALTER TABLE trainings DROP CONSTRAINT trainings_within_capacity;
ALTER TABLE trainings ADD CONSTRAINT trainings_within_capacity CHECK (capacity IS NULL OR enrolled + held <= capacity);

-- Restaurant tables: a 'held' placeholder has no customer yet.
ALTER TABLE restaurant_reservations ADD COLUMN hold_id bigint REFERENCES holds (id) ON DELETE CASCADE;
CREATE UNIQUE INDEX restaurant_reservations_hold_id ON restaurant_reservations (hold_id) WHERE hold_id IS NOT NULL;
ALTER TABLE restaurant_reservations DROP CONSTRAINT restaurant_reservations_status_known;
ALTER TABLE restaurant_reservations ADD CONSTRAINT restaurant_reservations_status_known
    CHECK (status IN ('pending', 'confirmed', 'rejected', 'cancelled', 'held'));
ALTER TABLE restaurant_reservations ADD CONSTRAINT restaurant_reservations_held_is_hold CHECK ((status = 'held') = (hold_id IS NOT NULL));
ALTER TABLE restaurant_reservations DROP CONSTRAINT restaurant_reservations_contact;
ALTER TABLE restaurant_reservations ADD CONSTRAINT restaurant_reservations_contact
    CHECK (status = 'held' OR email IS NOT NULL OR phone IS NOT NULL);
ALTER TABLE restaurant_reservations DROP CONSTRAINT restaurant_reservations_no_overlap;
ALTER TABLE restaurant_reservations ADD CONSTRAINT restaurant_reservations_no_overlap EXCLUDE USING gist (
    table_id WITH =,
    tstzrange(starts_at, ends_at, '[)') WITH &&
) WHERE (status IN ('confirmed', 'held'));

-- A line of users for a full training or a taken stage slot, first come first served (by id).
CREATE TABLE waitlist_entries (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint      NOT NULL REFERENCES users (id),
    training_id bigint      REFERENCES trainings (id) ON DELETE CASCADE,
    stage_id    bigint      REFERENCES stages (id) ON DELETE CASCADE,
    date        date,
    start_time  time,
    end_time    time,
    -- waiting: in line, offered: holds the offer `hold_id`, accepted: confirmed it, lapsed: let it expire or released
    -- it, left: left the line.
    status      text        NOT NULL DEFAULT 'waiting' CONSTRAINT waitlist_entries_status_known
                            CHECK (status IN ('waiting', 'offered', 'accepted', 'lapsed', 'left')),
    hold_id     bigint      REFERENCES holds (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    CONSTRAINT waitlist_entries_one_target CHECK (
        (training_id IS NOT NULL) <> (stage_id IS NOT NULL AND date IS NOT NULL AND start_time IS NOT NULL AND end_time IS NOT NULL)),
    CONSTRAINT waitlist_entries_time_range CHECK (start_time < end_time)
);
-- One place in a line per user: a training's line, or a stage slot's.
CREATE UNIQUE INDEX waitlist_entries_one_per_training ON waitlist_entries (training_id, user_id)
    WHERE status IN ('waiting', 'offered') AND training_id IS NOT NULL;
CREATE UNIQUE INDEX waitlist_entries_one_per_slot ON waitlist_entries (stage_id, date, start_time, end_time, user_id)
    WHERE status IN ('waiting', 'offered') AND stage_id IS NOT NULL;
CREATE INDEX waitlist_entries_training_line ON waitlist_entries (training_id, id) WHERE status IN ('waiting', 'offered');
CREATE INDEX waitlist_entries_stage_line ON waitlist_entries (stage_id, date, id) WHERE status IN ('waiting', 'offered');
CREATE INDEX waitlist_entries_hold_id ON waitlist_entries (hold_id) WHERE hold_id IS NOT NULL;
CREATE INDEX waitlist_entries_user_id ON waitlist_entries (user_id);

-- A place may have freed for someone waiting: queue a `waitlist.offer` job (Features/Waitlists/OfferPlaces) for each
-- target that has users waiting. The job makes the offers under the target's lock, so jobs queued twice are harmless.
-- Written in the transaction that frees the place: a place that frees is never missed, whichever statement frees it.
CREATE FUNCTION waitlist_wake(p_training bigint, p_stage bigint, p_date date) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    waiting boolean;
BEGIN
    IF p_training IS NOT NULL THEN
        waiting := EXISTS (SELECT 1 FROM waitlist_entries w WHERE w.training_id = p_training AND w.status = 'waiting');
    ELSE
        waiting := EXISTS (SELECT 1 FROM waitlist_entries w WHERE w.stage_id = p_stage AND w.date = p_date AND w.status = 'waiting');
    END IF;
    IF waiting THEN
        INSERT INTO jobs (kind, payload, run_at, max_attempts, created_at, updated_at)
        VALUES ('waitlist.offer', jsonb_strip_nulls(jsonb_build_object('training', p_training, 'stage', p_stage, 'date', p_date)),
                now(), 10, now(), now());
        PERFORM pg_notify('slices_jobs', '');
    END IF;
END;
$$;

CREATE FUNCTION holds_take_place() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    CASE NEW.kind
    WHEN 'stage_slot' THEN
        INSERT INTO bookings (user_id, stage_id, date, start_time, finish_time, active, created_at, hold_id)
        VALUES (NEW.user_id, NEW.stage_id, NEW.date, NEW.start_time, NEW.end_time, true, NEW.created_at, NEW.id);
    WHEN 'training_place' THEN
        UPDATE trainings SET held = held + 1 WHERE id = NEW.training_id;
    WHEN 'cassette' THEN
        UPDATE cassettes SET quantity = quantity - NEW.quantity WHERE id = NEW.cassette_id;
    WHEN 'restaurant_table' THEN
        INSERT INTO restaurant_reservations (table_id, starts_at, ends_at, guests, name, status, created_at, updated_at, hold_id)
        VALUES (NEW.table_id, NEW.starts_at, NEW.ends_at, 1, '', 'held', NEW.created_at, NEW.created_at, NEW.id);
    END CASE;
    RETURN NULL;
END;
$$;

CREATE TRIGGER holds_take_place AFTER INSERT ON holds
    FOR EACH ROW WHEN (NEW.status = 'active') EXECUTE FUNCTION holds_take_place();

CREATE FUNCTION holds_give_back_place() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    CASE OLD.kind
    WHEN 'stage_slot' THEN
        -- bookings_wake_waitlists (below) offers the slot to whoever waits for it.
        DELETE FROM bookings WHERE hold_id = OLD.id;
    WHEN 'training_place' THEN
        UPDATE trainings SET held = held - 1 WHERE id = OLD.training_id;
        IF NEW.status <> 'converted' THEN
            PERFORM waitlist_wake(OLD.training_id, NULL, NULL);
        END IF;
    WHEN 'cassette' THEN
        UPDATE cassettes SET quantity = quantity + OLD.quantity WHERE id = OLD.cassette_id;
    WHEN 'restaurant_table' THEN
        DELETE FROM restaurant_reservations WHERE hold_id = OLD.id;
    END CASE;
    -- An offer ends with its hold: accepted when confirmed, lapsed otherwise (the place passes on, above).
    UPDATE waitlist_entries
    SET status = CASE WHEN NEW.status = 'converted' THEN 'accepted' ELSE 'lapsed' END, updated_at = NEW.ended_at
    WHERE hold_id = OLD.id AND status = 'offered';
    RETURN NULL;
END;
$$;

CREATE TRIGGER holds_give_back_place AFTER UPDATE OF status ON holds
    FOR EACH ROW WHEN (OLD.status = 'active' AND NEW.status <> 'active') EXECUTE FUNCTION holds_give_back_place();

-- A training place frees when someone leaves (by any statement: the route, a group left, db/0014) or capacity grows.
CREATE FUNCTION training_enrollments_wake_waitlists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM waitlist_wake(t.training_id, NULL, NULL) FROM (SELECT DISTINCT training_id FROM left_places) t;
    RETURN NULL;
END;
$$;

CREATE TRIGGER training_enrollments_wake_waitlists AFTER DELETE ON training_enrollments
    REFERENCING OLD TABLE AS left_places
    FOR EACH STATEMENT EXECUTE FUNCTION training_enrollments_wake_waitlists();

CREATE FUNCTION trainings_wake_waitlists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM waitlist_wake(NEW.id, NULL, NULL);
    RETURN NULL;
END;
$$;

CREATE TRIGGER trainings_wake_waitlists AFTER UPDATE OF capacity ON trainings
    FOR EACH ROW WHEN (NEW.capacity IS NULL OR NEW.capacity > OLD.capacity) EXECUTE FUNCTION trainings_wake_waitlists();

-- A stage slot frees when an active booking (or a hold's placeholder) is deleted, deactivated or moved.
CREATE FUNCTION bookings_wake_waitlists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM waitlist_wake(NULL, f.stage_id, f.date)
        FROM (SELECT DISTINCT o.stage_id, o.date FROM old_rows o WHERE o.active) f;
    ELSE
        PERFORM waitlist_wake(NULL, f.stage_id, f.date)
        FROM (SELECT DISTINCT o.stage_id, o.date
              FROM old_rows o JOIN new_rows n ON n.id = o.id
              WHERE o.active AND (NOT n.active OR (n.stage_id, n.date, n.start_time, n.finish_time)
                                                  IS DISTINCT FROM (o.stage_id, o.date, o.start_time, o.finish_time))) f;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER bookings_wake_waitlists_on_delete AFTER DELETE ON bookings
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bookings_wake_waitlists();
CREATE TRIGGER bookings_wake_waitlists_on_update AFTER UPDATE ON bookings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bookings_wake_waitlists();

-- The first step of every change to a hold's status outside a write of its target (release, confirm, the expiry job):
-- the target's row, with the lock its own writes take, before the hold's, as the writes that expire due holds take them.
CREATE FUNCTION holds_lock_target(p_hold bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    h holds;
BEGIN
    SELECT * INTO h FROM holds WHERE id = p_hold;
    CASE h.kind
    WHEN 'stage_slot' THEN PERFORM 1 FROM stages WHERE id = h.stage_id FOR NO KEY UPDATE;
    WHEN 'training_place' THEN PERFORM 1 FROM trainings WHERE id = h.training_id FOR NO KEY UPDATE;
    WHEN 'cassette' THEN PERFORM 1 FROM cassettes WHERE id = h.cassette_id FOR UPDATE;
    WHEN 'restaurant_table' THEN PERFORM 1 FROM restaurant_tables WHERE id = h.table_id FOR NO KEY UPDATE;
    ELSE NULL;
    END CASE;
END;
$$;

-- One active hold of a training per user: a second one would be a place taken twice for one person.
CREATE UNIQUE INDEX holds_one_active_per_training_and_user ON holds (training_id, user_id)
    WHERE status = 'active' AND training_id IS NOT NULL;
