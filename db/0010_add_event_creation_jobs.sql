-- An event created by the delayed-creation job remembers that job: a repeated run of the job inserts nothing
-- (at-least-once delivery, effect once), and the job status route finds the event it made.
ALTER TABLE events ADD COLUMN creation_job_id bigint;
ALTER TABLE events ADD CONSTRAINT events_creation_job_id_key UNIQUE (creation_job_id);
