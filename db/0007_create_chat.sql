-- Chat messages are stored before they are delivered; every instance LISTENs on chat_messages and reads
-- the row by id. A revoked session is announced on session_revoked so that its sockets close at once.
CREATE TABLE chat_messages (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room         text,
    sender_id    bigint      NOT NULL REFERENCES users (id),
    recipient_id bigint      REFERENCES users (id),
    text         text        NOT NULL CHECK (char_length(text) BETWEEN 1 AND 4000),
    sent_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT chat_messages_room_or_recipient CHECK ((room IS NULL) <> (recipient_id IS NULL))
);
CREATE INDEX chat_messages_room ON chat_messages (room, id DESC) WHERE room IS NOT NULL;
CREATE INDEX chat_messages_direct ON chat_messages (least(sender_id, recipient_id), greatest(sender_id, recipient_id), id DESC)
    WHERE recipient_id IS NOT NULL;

CREATE FUNCTION notify_session_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('session_revoked', NEW.id::text);
    RETURN NEW;
END $$;

CREATE TRIGGER sessions_revoked AFTER UPDATE OF revoked_at ON sessions
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION notify_session_revoked();
