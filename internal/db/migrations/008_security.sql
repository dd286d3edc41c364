-- Where the register has it, the INSEE code of the voter's birthplace: the
-- grantor's identity is compared with it.
ALTER TABLE voters ADD COLUMN birth_place text NOT NULL DEFAULT '';

-- One live procuration per vote: what a dossier covers (the days of its
-- rounds, or its period) may not overlap another live dossier's for the
-- same grantor. The database decides, whatever two requests do at once.
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE procurations ADD COLUMN coverage datemultirange;

CREATE FUNCTION procuration_coverage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.election_id IS NULL THEN
        NEW.coverage := datemultirange(daterange(NEW.valid_from, NEW.valid_until, '[]'));
    ELSE
        SELECT range_agg(daterange(r.date, r.date, '[]')) INTO NEW.coverage
        FROM election_rounds r WHERE r.election_id = NEW.election_id AND r.number = ANY (NEW.rounds);
    END IF;
    IF NEW.coverage IS NULL THEN
        NEW.coverage := datemultirange(daterange(NEW.valid_from, NEW.valid_until, '[]'));
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER procuration_coverage BEFORE INSERT ON procurations FOR EACH ROW EXECUTE FUNCTION procuration_coverage();
UPDATE procurations SET coverage = CASE WHEN election_id IS NULL THEN datemultirange(daterange(valid_from, valid_until, '[]'))
    ELSE coalesce((SELECT range_agg(daterange(r.date, r.date, '[]')) FROM election_rounds r
        WHERE r.election_id = procurations.election_id AND r.number = ANY (procurations.rounds)),
        datemultirange(daterange(valid_from, valid_until, '[]'))) END;
ALTER TABLE procurations ALTER COLUMN coverage SET NOT NULL;
ALTER TABLE procurations ADD CONSTRAINT one_live_procuration_per_vote
    EXCLUDE USING gist (grantor_nne WITH =, coverage WITH &&)
    WHERE (status IN ('awaiting_police', 'awaiting_town_hall', 'validated'));

-- A person is one record per campaign and email: a sign-up never tells a
-- stranger whether someone joined, and pre-registering someone with your
-- own address locks nobody out.
ALTER TABLE signups DROP CONSTRAINT signups_campaign_id_person_key_key;
CREATE UNIQUE INDEX signups_person_email ON signups (campaign_id, person_key, lower(email));

-- Rate limits every API replica shares: counters per key and window. Lost
-- on a crash, which only forgives a few attempts.
CREATE UNLOGGED TABLE rate_limits (
    key          text NOT NULL,
    window_start timestamptz NOT NULL,
    hits         integer NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_limits_by_window ON rate_limits (window_start);
