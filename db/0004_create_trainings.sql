-- Training schedule: trainings of a group, enrolments in them and attendance records.
-- groups and group_members come from 0001.

CREATE TABLE trainings (
    id         bigint        GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    date       date          NOT NULL,
    start_time time          NOT NULL,
    end_time   time          NOT NULL,
    price      numeric(10,2) NOT NULL,
    -- A group with trainings cannot be deleted: the trainings and their attendance are history.
    group_id   bigint        NOT NULL CONSTRAINT trainings_group_id_fkey REFERENCES groups (id),
    capacity   integer,
    -- Kept by the trigger below, never written by the application. The CHECK on it is what turns the
    -- (capacity + 1)-th enrolment away: the counter's UPDATE locks the training row, so parallel enrolments
    -- queue on it and each sees the count the previous one committed.
    enrolled   integer       NOT NULL DEFAULT 0,
    CONSTRAINT trainings_start_before_end CHECK (start_time < end_time),
    CONSTRAINT trainings_price_not_negative CHECK (price >= 0),
    CONSTRAINT trainings_capacity_positive CHECK (capacity IS NULL OR capacity > 0),
    CONSTRAINT trainings_enrolled_not_negative CHECK (enrolled >= 0),
    CONSTRAINT trainings_within_capacity CHECK (capacity IS NULL OR enrolled <= capacity)
);
CREATE INDEX trainings_group_id_date ON trainings (group_id, date);
CREATE INDEX trainings_date ON trainings (date);

-- Users are deactivated, never deleted, so their enrolments and attendance stay (no ON DELETE CASCADE).
CREATE TABLE training_enrollments (
    training_id bigint      NOT NULL REFERENCES trainings (id) ON DELETE CASCADE,
    user_id     bigint      NOT NULL REFERENCES users (id),
    enrolled_at timestamptz NOT NULL,
    CONSTRAINT training_enrollments_pkey PRIMARY KEY (training_id, user_id)
);
CREATE INDEX training_enrollments_user_id ON training_enrollments (user_id);

-- Every enrolment or departure, by whatever statement, moves trainings.enrolled, so the counter cannot drift
-- from the rows it counts, and the training's row version (its ETag) changes with its list of users.
CREATE FUNCTION training_enrollments_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE trainings SET enrolled = enrolled + 1 WHERE id = NEW.training_id;
        RETURN NEW;
    END IF;
    UPDATE trainings SET enrolled = enrolled - 1 WHERE id = OLD.training_id;
    RETURN OLD;
END;
$$;

CREATE TRIGGER training_enrollments_count
    AFTER INSERT OR DELETE ON training_enrollments
    FOR EACH ROW EXECUTE FUNCTION training_enrollments_count();

CREATE TABLE attendances (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    training_id bigint      NOT NULL REFERENCES trainings (id) ON DELETE CASCADE,
    user_id     bigint      NOT NULL REFERENCES users (id),
    status      text        NOT NULL CONSTRAINT attendances_status_known CHECK (status IN ('attended', 'missed', 'excused')),
    marked_at   timestamptz NOT NULL,
    CONSTRAINT attendances_one_per_user_and_training UNIQUE (training_id, user_id)
);
CREATE INDEX attendances_user_id ON attendances (user_id);
