-- Instances cache stages as GET /api/stages/{id} answers them (Features/Stages/StageCache): every change of a stage
-- or of the services it offers is announced on `stage_changed` with the stage's id, so every instance drops it; an
-- empty payload (TRUNCATE) drops them all. pg_notify sends one notification per distinct payload per transaction.
CREATE FUNCTION notify_stage_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_LEVEL = 'STATEMENT' THEN
        PERFORM pg_notify('stage_changed', '');
    ELSIF TG_TABLE_NAME = 'stages' THEN
        PERFORM pg_notify('stage_changed', OLD.id::text);
    ELSE
        IF TG_OP <> 'INSERT' THEN
            PERFORM pg_notify('stage_changed', OLD.stage_id::text);
        END IF;
        IF TG_OP <> 'DELETE' THEN
            PERFORM pg_notify('stage_changed', NEW.stage_id::text);
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER stages_changed AFTER UPDATE OR DELETE ON stages
    FOR EACH ROW EXECUTE FUNCTION notify_stage_changed();
CREATE TRIGGER stage_services_changed AFTER INSERT OR UPDATE OR DELETE ON stage_services
    FOR EACH ROW EXECUTE FUNCTION notify_stage_changed();
CREATE TRIGGER stages_truncated AFTER TRUNCATE ON stages
    FOR EACH STATEMENT EXECUTE FUNCTION notify_stage_changed();
CREATE TRIGGER stage_services_truncated AFTER TRUNCATE ON stage_services
    FOR EACH STATEMENT EXECUTE FUNCTION notify_stage_changed();
