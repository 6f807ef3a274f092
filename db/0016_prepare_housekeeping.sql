-- Housekeeping (Common/Work/Housekeeping.cs) deletes what nothing needs any more, in small batches. These indexes
-- let each batch find its rows, and the foreign-key checks of its deletes find theirs, without scanning a table.

-- What each purge selects by.
CREATE INDEX login_failures_window_start ON login_failures (window_start);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);
CREATE INDEX sessions_revoked_at ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX jobs_succeeded_finished_at ON jobs (finished_at) WHERE state = 'succeeded';

-- Deleting a job checks that no outbox row still points at it; the purge also deletes its outbox rows by job.
CREATE INDEX outbox_emails_job_id ON outbox_emails (job_id);
CREATE INDEX webhook_deliveries_job_id ON webhook_deliveries (job_id);

-- A forward record only stops a held accounting event's job from writing its webhook twice; the job has long
-- finished when its delivery is purged, so the record goes with the delivery instead of blocking its deletion.
ALTER TABLE restaurant_accounting_forwards
    DROP CONSTRAINT restaurant_accounting_forwards_webhook_id_fkey,
    ADD CONSTRAINT restaurant_accounting_forwards_webhook_id_fkey
        FOREIGN KEY (webhook_id) REFERENCES webhook_deliveries (id) ON DELETE CASCADE;
CREATE INDEX restaurant_accounting_forwards_webhook_id ON restaurant_accounting_forwards (webhook_id);
