-- A failed webhook delivery has no job that can still run: retrying a webhook job by hand (RetryJob) now puts its
-- delivery back to pending too (found by job_id: 0016's webhook_deliveries_job_id serves that). Deliveries that such
-- a retry left failed before (their job pending or running again, so a redelivery would have queued a second sender)
-- are reopened here; their job settles them as it always does (delivered, or failed once it gives up).
UPDATE webhook_deliveries d SET state = 'pending'
FROM jobs j
WHERE j.id = d.job_id AND d.state = 'failed' AND j.state IN ('pending', 'running');
