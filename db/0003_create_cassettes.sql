-- Cassette shop: a catalogue with stock, and orders that take stock atomically.
CREATE TABLE cassettes (
    id       bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title    text    NOT NULL CONSTRAINT cassettes_title_length CHECK (char_length(title) BETWEEN 1 AND 255),
    director text    NOT NULL CONSTRAINT cassettes_director_length CHECK (char_length(director) BETWEEN 1 AND 255),
    released date    NOT NULL,
    -- The last line of defence for "never oversell": a conditional UPDATE that slipped would fail here.
    quantity integer NOT NULL DEFAULT 0 CONSTRAINT cassettes_quantity_not_negative CHECK (quantity >= 0)
);
-- ?search= is ILIKE '%…%' on title and director; trigram indexes serve it.
CREATE INDEX cassettes_title_trgm ON cassettes USING gin (title gin_trgm_ops);
CREATE INDEX cassettes_director_trgm ON cassettes USING gin (director gin_trgm_ops);
CREATE INDEX cassettes_director_lower ON cassettes (lower(director));
CREATE INDEX cassettes_title_lower ON cassettes (lower(title), id);
CREATE INDEX cassettes_released ON cassettes (released, id);

CREATE TABLE orders (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint      NOT NULL REFERENCES users (id),
    status       text        NOT NULL CONSTRAINT orders_status_known CHECK (status IN ('placed', 'cancelled')),
    created_at   timestamptz NOT NULL,
    cancelled_at timestamptz,
    CONSTRAINT orders_cancelled_at_with_status CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
);
CREATE INDEX orders_user_id ON orders (user_id, id);

-- An order line is a record of a sale: it keeps the cassette's id and its title as they were when the order
-- was placed, and outlives the cassette (no foreign key, so deleting a cassette leaves orders readable).
-- Lines are only ever written from the rows the stock-taking UPDATE returned, in the same transaction.
CREATE TABLE order_lines (
    order_id    bigint  NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no     integer NOT NULL,
    cassette_id bigint  NOT NULL,
    title       text    NOT NULL,
    quantity    integer NOT NULL CONSTRAINT order_lines_quantity_positive CHECK (quantity > 0),
    PRIMARY KEY (order_id, line_no),
    CONSTRAINT order_lines_one_per_cassette UNIQUE (order_id, cassette_id)
);
