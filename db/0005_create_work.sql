-- Background work kept in PostgreSQL: durable jobs, and the email and webhook outboxes whose rows are written in
-- the same transaction as the change that causes them and delivered afterwards by a job.

CREATE TABLE jobs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text        NOT NULL,
    payload      jsonb       NOT NULL,
    state        text        NOT NULL DEFAULT 'pending'
                             CONSTRAINT jobs_state_known CHECK (state IN ('pending', 'running', 'succeeded', 'failed')),
    run_at       timestamptz NOT NULL,
    attempts     integer     NOT NULL DEFAULT 0,
    max_attempts integer     NOT NULL CONSTRAINT jobs_max_attempts_positive CHECK (max_attempts >= 1),
    last_error   text,
    -- A running job belongs to the claim holding lock_token until locked_until; after that any worker may take it.
    locked_until timestamptz,
    lock_token   uuid,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    CONSTRAINT jobs_running_is_locked CHECK ((state = 'running') = (locked_until IS NOT NULL AND lock_token IS NOT NULL))
);
-- What the workers scan: due pending jobs, and running jobs whose lease ran out.
CREATE INDEX jobs_pending_run_at ON jobs (run_at, id) WHERE state = 'pending';
CREATE INDEX jobs_running_locked_until ON jobs (locked_until) WHERE state = 'running';
-- What admins list.
CREATE INDEX jobs_state_id ON jobs (state, id);

CREATE TABLE outbox_emails (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The Message-ID header, fixed when the message is written, so every delivery attempt sends the same one.
    message_id text        NOT NULL CONSTRAINT outbox_emails_message_id_key UNIQUE,
    to_address text        NOT NULL,
    to_name    text,
    subject    text        NOT NULL,
    text_body  text        NOT NULL,
    html_body  text,
    state      text        NOT NULL DEFAULT 'pending'
                           CONSTRAINT outbox_emails_state_known CHECK (state IN ('pending', 'sent', 'failed')),
    job_id     bigint      REFERENCES jobs (id),
    created_at timestamptz NOT NULL,
    sent_at    timestamptz
);
CREATE INDEX outbox_emails_to_address ON outbox_emails (lower(to_address));

CREATE TABLE webhook_deliveries (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Sent as X-Delivery-Id: the same on every attempt, so receivers can drop repeats.
    delivery_id uuid        NOT NULL CONSTRAINT webhook_deliveries_delivery_id_key UNIQUE,
    url         text        NOT NULL CONSTRAINT webhook_deliveries_url_http CHECK (url ~* '^https?://'),
    event_type  text        NOT NULL,
    -- The exact bytes that are signed and sent; jsonb would reorder them.
    body        text        NOT NULL,
    -- "sha256=<hex>", computed when the delivery is written: the secret itself is never stored.
    signature   text        NOT NULL,
    state       text        NOT NULL DEFAULT 'pending'
                            CONSTRAINT webhook_deliveries_state_known CHECK (state IN ('pending', 'delivered', 'failed')),
    job_id      bigint      REFERENCES jobs (id),
    created_at  timestamptz NOT NULL,
    delivered_at timestamptz
);
CREATE INDEX webhook_deliveries_state_id ON webhook_deliveries (state, id);

CREATE TABLE webhook_attempts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id      bigint      NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempted_at     timestamptz NOT NULL,
    status_code      integer,
    error            text,
    response_snippet text,
    duration_ms      integer     NOT NULL
);
CREATE INDEX webhook_attempts_delivery_id ON webhook_attempts (delivery_id, id);
