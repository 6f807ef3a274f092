-- Stage booking: services, stages offering them, and bookings of a stage for a time window on a date.
-- The rules that must hold under concurrency are constraints, each named for the slice that declares its meaning.

CREATE TABLE services (
    id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name citext NOT NULL CONSTRAINT services_name_length CHECK (length(name) BETWEEN 1 AND 255)
);
-- citext: "Sound" and "sound" are the same service.
CREATE UNIQUE INDEX services_name_key ON services (name);

CREATE TABLE stages (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL,
    address     text NOT NULL DEFAULT '',
    description text NOT NULL DEFAULT '',
    open_time   time NOT NULL,
    close_time  time NOT NULL,
    CONSTRAINT stages_opening_hours CHECK (open_time < close_time)
);

-- A service in use cannot be deleted (RESTRICT): the stage must drop it first.
CREATE TABLE stage_services (
    stage_id   bigint NOT NULL REFERENCES stages (id) ON DELETE CASCADE,
    service_id bigint NOT NULL CONSTRAINT stage_services_service_id_fkey REFERENCES services (id) ON DELETE RESTRICT,
    PRIMARY KEY (stage_id, service_id)
);
CREATE INDEX stage_services_service_id ON stage_services (service_id);

CREATE TABLE bookings (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint  NOT NULL REFERENCES users (id),
    -- A stage with bookings cannot be deleted: its bookings are someone's plans or history.
    stage_id    bigint  NOT NULL CONSTRAINT bookings_stage_id_fkey REFERENCES stages (id) ON DELETE RESTRICT,
    date        date    NOT NULL,
    start_time  time    NOT NULL,
    finish_time time    NOT NULL,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bookings_time_range CHECK (start_time < finish_time),
    -- No two active bookings of one stage overlap; '[)' lets 10:00-11:00 and 11:00-12:00 touch.
    CONSTRAINT bookings_no_overlap EXCLUDE USING gist (
        stage_id WITH =,
        tsrange(date + start_time, date + finish_time, '[)') WITH &&
    ) WHERE (active)
);
CREATE INDEX bookings_user_id_date ON bookings (user_id, date);
CREATE INDEX bookings_stage_id_date ON bookings (stage_id, date);
