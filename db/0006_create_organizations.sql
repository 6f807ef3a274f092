-- Organizations of the events directory and their members. Chat rooms org-<id> are open to members only.
CREATE TABLE organizations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title       text        NOT NULL,
    description text,
    address     text,
    postcode    text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX organizations_title_trgm ON organizations USING gin (title gin_trgm_ops);

CREATE TABLE organization_members (
    organization_id bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX organization_members_user_id ON organization_members (user_id);
