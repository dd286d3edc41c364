-- Matching platforms: one deployment serves many campaigns (an
-- organisation's platform for one election).
CREATE TABLE campaigns (
    id                   text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    name                 text NOT NULL,
    election_id          text NOT NULL REFERENCES elections (id),
    sender               text NOT NULL,
    back_office_approval boolean NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL DEFAULT now()
);

-- Requesters and volunteers. person_key identifies a person (names and
-- birth date) within a campaign, whichever side: the same person twice is
-- one record, and cannot be on both sides.
CREATE TABLE signups (
    id              text PRIMARY KEY,
    campaign_id     text NOT NULL REFERENCES campaigns (id),
    side            text NOT NULL CHECK (side IN ('request', 'volunteer')),
    person_key      text NOT NULL,
    given_names     text NOT NULL,
    family_name     text NOT NULL,
    birth_date      date NOT NULL,
    email           text NOT NULL,
    phone           text NOT NULL DEFAULT '',
    nne             text NOT NULL DEFAULT '',
    commune_code    text NOT NULL REFERENCES communes (code),
    polling_station text NOT NULL DEFAULT '',
    rounds          smallint[] NOT NULL CHECK (cardinality(rounds) BETWEEN 1 AND 2),
    consent_at      timestamptz NOT NULL,
    status          text NOT NULL DEFAULT 'unconfirmed' CHECK (status IN ('unconfirmed', 'pool', 'withdrawn')),
    confirmed_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (campaign_id, person_key)
);
CREATE INDEX signups_pool ON signups (campaign_id, side, status, created_at);
CREATE INDEX signups_by_email ON signups (lower(email), created_at);
