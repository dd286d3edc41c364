ALTER TABLE campaigns
    ADD COLUMN answer_window interval NOT NULL DEFAULT '48 hours',
    ADD COLUMN retention interval NOT NULL DEFAULT '30 days';

-- A requester whose official dossier failed goes back to the pool first in line.
ALTER TABLE signups ADD COLUMN first_in_line boolean NOT NULL DEFAULT false;
ALTER TABLE signups DROP CONSTRAINT signups_status_check;
ALTER TABLE signups ADD CONSTRAINT signups_status_check CHECK (status IN ('unconfirmed', 'pool', 'withdrawn', 'deleted'));

CREATE TABLE matches (
    id                    text PRIMARY KEY,
    campaign_id           text NOT NULL REFERENCES campaigns (id),
    request_id            text NOT NULL REFERENCES signups (id),
    volunteer_id          text NOT NULL REFERENCES signups (id),
    rounds                smallint[] NOT NULL,
    tier                  smallint NOT NULL CHECK (tier BETWEEN 0 AND 4),
    status                text NOT NULL,
    last_seq              integer NOT NULL DEFAULT 1,
    offered_at            timestamptz,
    answer_deadline       timestamptz,
    request_answer        text,
    volunteer_answer      text,
    procuration_reference text,
    end_reason            text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX matches_by_campaign ON matches (campaign_id, status, created_at);

CREATE TABLE match_history (
    match_id text NOT NULL REFERENCES matches (id),
    seq      integer NOT NULL,
    at       timestamptz NOT NULL,
    status   text NOT NULL,
    actor    text NOT NULL,
    PRIMARY KEY (match_id, seq)
);

-- One row per person and round a match holds. While the match is live, the
-- unique index is the rule: a volunteer is never in two live matches for the
-- same round (nor a requester), whatever the timing of two runs.
CREATE TABLE match_slots (
    match_id  text NOT NULL REFERENCES matches (id),
    signup_id text NOT NULL REFERENCES signups (id),
    round     smallint NOT NULL,
    live      boolean NOT NULL DEFAULT true,
    PRIMARY KEY (match_id, signup_id, round)
);
CREATE UNIQUE INDEX match_slots_live ON match_slots (signup_id, round) WHERE live;

-- Pairs that declined (or let the deadline pass) are never proposed again.
CREATE TABLE declined_pairs (
    request_id   text NOT NULL REFERENCES signups (id),
    volunteer_id text NOT NULL REFERENCES signups (id),
    at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, volunteer_id)
);
