-- Restaurant reservations: tables (open or closed for booking), their prices over time, and reservation requests of
-- anonymous customers that the accounting system confirms or rejects. The rules that must hold under concurrency
-- are constraints, each named for the slice that declares its meaning.

CREATE TABLE restaurant_tables (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    label         citext      NOT NULL CONSTRAINT restaurant_tables_label_length CHECK (char_length(label) BETWEEN 1 AND 100),
    kind          text        NOT NULL CONSTRAINT restaurant_tables_kind_known CHECK (kind IN ('regular', 'cabin', 'room')),
    seats         integer     NOT NULL CONSTRAINT restaurant_tables_seats_range CHECK (seats BETWEEN 1 AND 50),
    -- false closes the table: the public no longer sees it and it takes no new requests.
    can_be_booked boolean     NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL
);
-- citext: "Terrace 1" and "terrace 1" are the same label.
CREATE UNIQUE INDEX restaurant_tables_label_key ON restaurant_tables (label);

-- Every price ever set. The price that holds at an instant is the row with the latest effective_from not after it
-- (ties: the one set last), so a price set for a future date takes over by itself when that date comes.
CREATE TABLE restaurant_table_prices (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_id       bigint        NOT NULL REFERENCES restaurant_tables (id),
    price          numeric(10,2) NOT NULL CONSTRAINT restaurant_table_prices_price_range CHECK (price >= 0),
    effective_from timestamptz   NOT NULL,
    created_at     timestamptz   NOT NULL
);
CREATE INDEX restaurant_table_prices_current ON restaurant_table_prices (table_id, effective_from DESC, id DESC);

CREATE TABLE restaurant_reservations (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_id       bigint        NOT NULL REFERENCES restaurant_tables (id),
    starts_at      timestamptz   NOT NULL,
    ends_at        timestamptz   NOT NULL,
    guests         integer       NOT NULL CONSTRAINT restaurant_reservations_guests_range CHECK (guests BETWEEN 1 AND 50),
    name           text          NOT NULL,
    email          text,
    phone          text,
    comment        text,
    -- The price that held when the request was made; later price changes do not touch it.
    price          numeric(10,2),
    status         text          NOT NULL DEFAULT 'pending'
                                 CONSTRAINT restaurant_reservations_status_known CHECK (status IN ('pending', 'confirmed', 'rejected', 'cancelled')),
    -- The accounting system's comment on its last decision.
    status_comment text,
    created_at     timestamptz   NOT NULL,
    updated_at     timestamptz   NOT NULL,
    CONSTRAINT restaurant_reservations_contact CHECK (email IS NOT NULL OR phone IS NOT NULL),
    CONSTRAINT restaurant_reservations_time_range CHECK (starts_at < ends_at),
    -- Two confirmed reservations of one table never overlap; pending requests do not block each other.
    -- '[)' lets 18:00-20:00 and 20:00-22:00 touch.
    CONSTRAINT restaurant_reservations_no_overlap EXCLUDE USING gist (
        table_id WITH =,
        tstzrange(starts_at, ends_at, '[)') WITH &&
    ) WHERE (status = 'confirmed')
);
-- What admins list: by start, by status, by table, and the active ones (pending or confirmed, not yet ended).
CREATE INDEX restaurant_reservations_starts_at ON restaurant_reservations (starts_at, id);
CREATE INDEX restaurant_reservations_status_starts_at ON restaurant_reservations (status, starts_at, id);
CREATE INDEX restaurant_reservations_table_id_starts_at ON restaurant_reservations (table_id, starts_at, id);
CREATE INDEX restaurant_reservations_active_ends_at ON restaurant_reservations (ends_at) WHERE status IN ('pending', 'confirmed');

-- Accounting events raised while no Restaurant:Accounting:Url was configured travel as restaurant.accounting.forward
-- jobs; a job that has written its webhook delivery is recorded here, so a job run twice sends once.
CREATE TABLE restaurant_accounting_forwards (
    job_id     bigint      PRIMARY KEY,
    webhook_id bigint      NOT NULL REFERENCES webhook_deliveries (id),
    created_at timestamptz NOT NULL
);
