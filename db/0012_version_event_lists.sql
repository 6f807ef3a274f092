-- A version of everything GET /api/events filters on (events and their organizer links). Every statement that
-- writes either table moves it, in the writer's own transaction, so a reader that sees version n sees exactly the
-- rows that existed at n. The list caches its exact X-Total-Count per filter with the version it was counted at,
-- and counts again only when the version has moved (README "Performance": the count is what grew with the data).
CREATE TABLE events_list_version (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    n        bigint  NOT NULL
);
INSERT INTO events_list_version (n) VALUES (0);

CREATE FUNCTION events_list_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE events_list_version SET n = n + 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER events_list_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_list_version_bump();
CREATE TRIGGER events_list_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON event_organizations
    FOR EACH STATEMENT EXECUTE FUNCTION events_list_version_bump();
