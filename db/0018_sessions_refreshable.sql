-- Which sessions were started with a refresh token (sign-up, log-in) as against the admin panel's cookie sessions,
-- which never have one. Housekeeping deletes a refreshable session nobody revoked once all its refresh tokens are gone
-- (expired, then deleted): it can never be used again. A panel session without tokens is not abandoned.
ALTER TABLE sessions ADD COLUMN refreshable boolean NOT NULL DEFAULT false;

-- Sessions that hold a refresh token now are API sessions. Those whose tokens housekeeping already deleted cannot be
-- told from panel sessions any more and stay as they are.
UPDATE sessions s SET refreshable = true WHERE EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.session_id = s.id);

-- What the purge selects by: live refreshable sessions, oldest first.
CREATE INDEX sessions_live_refreshable_created_at ON sessions (created_at) WHERE revoked_at IS NULL AND refreshable;
