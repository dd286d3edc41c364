-- Official geographic code (COG): communes and their hierarchy, used for
-- validation and, later, for matching by proximity.
CREATE TABLE communes (
    code           text PRIMARY KEY,
    name           text NOT NULL,
    departement    text NOT NULL,
    region         text NOT NULL,
    arrondissement text NOT NULL DEFAULT '',
    epci           text NOT NULL DEFAULT '',
    population     integer NOT NULL DEFAULT 0
);

-- The electoral service a town hall reminder goes to, one address per commune.
CREATE TABLE town_hall_contacts (
    commune_code text PRIMARY KEY REFERENCES communes (code),
    email        text NOT NULL
);

-- The register extract (REU). Upserted by voter number.
CREATE TABLE voters (
    nne             text PRIMARY KEY CHECK (nne ~ '^[0-9]{8,9}$'),
    family_name     text NOT NULL,
    given_names     text NOT NULL,
    sex             text NOT NULL CHECK (sex IN ('F', 'M')),
    birth_date      date NOT NULL,
    commune_code    text NOT NULL REFERENCES communes (code),
    polling_station text NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX voters_lookup ON voters (commune_code, birth_date, lower(family_name));

CREATE TABLE elections (
    id   text PRIMARY KEY,
    name text NOT NULL
);

CREATE TABLE election_rounds (
    election_id text NOT NULL REFERENCES elections (id),
    number      smallint NOT NULL CHECK (number IN (1, 2)),
    date        date NOT NULL,
    PRIMARY KEY (election_id, number)
);

-- Agents as their tokens describe them, refreshed at every call, so that
-- workflow histories name an agent by subject only.
CREATE TABLE agents (
    sub         text PRIMARY KEY,
    role        text NOT NULL,
    given_name  text NOT NULL DEFAULT '',
    family_name text NOT NULL DEFAULT '',
    rank        text NOT NULL DEFAULT '',
    unit        text NOT NULL DEFAULT '',
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The read model the portals list. The workflow is the source of truth for
-- the status; its activities write here at every step.
CREATE TABLE procurations (
    reference             text PRIMARY KEY,
    status                text NOT NULL,
    last_seq              integer NOT NULL DEFAULT 1,
    grantor_sub           text NOT NULL,
    grantor_nne           text NOT NULL,
    grantor_given_names   text NOT NULL,
    grantor_family_name   text NOT NULL,
    grantor_birth_date    date,
    grantor_sex           text NOT NULL DEFAULT '',
    grantor_commune_code  text NOT NULL REFERENCES communes (code),
    grantor_email         text NOT NULL,
    grantor_phone         text NOT NULL DEFAULT '',
    digital_identity      boolean NOT NULL DEFAULT false,
    proxy_nne             text NOT NULL,
    proxy_given_names     text NOT NULL,
    proxy_family_name     text NOT NULL,
    proxy_birth_date      date NOT NULL,
    election_id           text REFERENCES elections (id),
    rounds                smallint[] NOT NULL DEFAULT '{}',
    valid_from            date NOT NULL,
    valid_until           date NOT NULL,
    police_agent_sub      text,
    police_rank           text,
    police_unit           text,
    police_at             timestamptz,
    police_outcome        text,
    police_reason         text,
    police_id_kind        text,
    police_id_fingerprint text,
    police_digital        boolean NOT NULL DEFAULT false,
    town_hall_at          timestamptz,
    town_hall_outcome     text,
    town_hall_reason      text,
    town_hall_automatic   boolean NOT NULL DEFAULT false,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CHECK (grantor_nne <> proxy_nne),
    CHECK (valid_until >= valid_from)
);
CREATE INDEX procurations_by_commune ON procurations (grantor_commune_code, status, created_at, reference);
CREATE INDEX procurations_by_grantor ON procurations (grantor_sub, created_at);

CREATE TABLE procuration_history (
    reference text NOT NULL REFERENCES procurations (reference),
    seq       integer NOT NULL,
    at        timestamptz NOT NULL,
    status    text NOT NULL,
    actor     text NOT NULL,
    PRIMARY KEY (reference, seq)
);

-- A create retried with the same Idempotency-Key returns the same dossier.
CREATE TABLE idempotency_keys (
    grantor_sub text NOT NULL,
    key         text NOT NULL,
    reference   text NOT NULL REFERENCES procurations (reference),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (grantor_sub, key)
);

-- The proxy holder's cap (Code électoral L73): at most 2 procurations at a
-- time, at most 1 established in France. The unique indexes are the
-- enforcement: of two concurrent validations for the same holder, the
-- second's insert fails, whatever the application does.
CREATE TABLE proxy_slots (
    reference      text PRIMARY KEY REFERENCES procurations (reference),
    proxy_nne      text NOT NULL,
    slot           smallint NOT NULL CHECK (slot IN (1, 2)),
    in_france      boolean NOT NULL,
    established_at timestamptz NOT NULL DEFAULT now(),
    released_at    timestamptz
);
CREATE UNIQUE INDEX proxy_slots_total ON proxy_slots (proxy_nne, slot) WHERE released_at IS NULL;
CREATE UNIQUE INDEX proxy_slots_in_france ON proxy_slots (proxy_nne) WHERE in_france AND released_at IS NULL;

-- Who did what to which dossier, when. Append-only.
CREATE TABLE audit_log (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    actor_sub  text NOT NULL,
    actor_role text NOT NULL,
    action     text NOT NULL,
    reference  text,
    details    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_by_reference ON audit_log (reference, at);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- Every email, keyed so that a retried send finds it already sent.
CREATE TABLE sent_emails (
    key        text PRIMARY KEY,
    reference  text,
    kind       text NOT NULL,
    recipient  text NOT NULL,
    subject    text NOT NULL,
    message_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz
);
CREATE INDEX sent_emails_by_reference ON sent_emails (reference);
