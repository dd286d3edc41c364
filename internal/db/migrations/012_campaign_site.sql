-- A campaign's public site carries its own identity, never the State's:
-- its colour and logo; where its requesters make the official request; and
-- the communes it covers when it is a municipal list's (empty: the whole
-- election).
ALTER TABLE campaigns ADD COLUMN color text NOT NULL DEFAULT '#5a2d82',
    ADD COLUMN logo_url text NOT NULL DEFAULT '',
    ADD COLUMN tagline text NOT NULL DEFAULT '',
    ADD COLUMN official_request_url text NOT NULL DEFAULT '',
    ADD COLUMN communes text[] NOT NULL DEFAULT '{}';

-- A dossier that changes state tells the matches that follow it at once.
CREATE INDEX matches_following ON matches (procuration_reference) WHERE status = 'procuration_linked';
