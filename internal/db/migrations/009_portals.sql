-- Browser sessions of the portals, shared by every API replica. The id is
-- stored hashed: a copy of the table opens no session.
CREATE TABLE web_sessions (
    id_hash    text PRIMARY KEY,
    data       jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen  timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX web_sessions_by_expiry ON web_sessions (expires_at);

-- Agents' rights: the identity provider (ProConnect) says who an agent is,
-- never that they are an officer empowered by a judge nor which communes
-- they serve. Support grants rights; a town hall's administrator invites
-- its own agents. A right granted to an email binds to the identity that
-- first signs in with it.
CREATE TABLE agent_rights (
    id          bigserial PRIMARY KEY,
    identity    text,
    email       text NOT NULL,
    role        text NOT NULL CHECK (role IN ('police', 'town_hall', 'support', 'back_office')),
    unit        text NOT NULL DEFAULT '',
    rank        text NOT NULL DEFAULT '',
    communes    text[] NOT NULL DEFAULT '{}',
    campaigns   text[] NOT NULL DEFAULT '{}',
    admin       boolean NOT NULL DEFAULT false,
    valid_from  date NOT NULL DEFAULT current_date,
    valid_until date,
    granted_by  text NOT NULL,
    granted_at  timestamptz NOT NULL DEFAULT now(),
    revoked_by  text,
    revoked_at  timestamptz,
    CHECK (role <> 'town_hall' OR cardinality(communes) > 0),
    CHECK (role <> 'police' OR (unit <> '' AND rank <> ''))
);
CREATE INDEX agent_rights_by_identity ON agent_rights (identity) WHERE revoked_at IS NULL;
CREATE INDEX agent_rights_by_email ON agent_rights (lower(email)) WHERE revoked_at IS NULL;
