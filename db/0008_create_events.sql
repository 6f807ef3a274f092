-- Events of the events directory and the organizations that organize them. The indexes serve the list filters
-- at a million events: title search (ILIKE, trigram), date ranges and ordering (date, id), and ?organization=.
CREATE TABLE events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title       text        NOT NULL,
    description text,
    date        date,
    image       text,
    created_by  bigint      NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_title_length CHECK (char_length(title) BETWEEN 1 AND 255),
    -- A path relative to Media:Root as EventImages writes it, never absolute and never climbing out of the root.
    CONSTRAINT events_image_relative CHECK (image IS NULL OR (left(image, 1) <> '/' AND position('..' IN image) = 0))
);
CREATE INDEX events_title_trgm ON events USING gin (title gin_trgm_ops);
CREATE INDEX events_date_id ON events (date, id);
CREATE INDEX events_created_by ON events (created_by);

-- Deleting an organization removes it from the events it organized (the events stay), as a many-to-many does.
CREATE TABLE event_organizations (
    event_id        bigint NOT NULL,
    organization_id bigint NOT NULL,
    CONSTRAINT event_organizations_pkey PRIMARY KEY (event_id, organization_id),
    CONSTRAINT event_organizations_event_id_fkey FOREIGN KEY (event_id) REFERENCES events (id) ON DELETE CASCADE,
    CONSTRAINT event_organizations_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE
);
CREATE INDEX event_organizations_organization_id ON event_organizations (organization_id, event_id);

-- 0006 left the organization title unbounded; the contract holds it to 1–255 characters.
ALTER TABLE organizations ADD CONSTRAINT organizations_title_length CHECK (char_length(title) BETWEEN 1 AND 255);
