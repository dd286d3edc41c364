-- A matching run writes all its proposals at once; their workflows start
-- afterwards, in the background, at the pace the Temporal server takes.
-- offer_started says a proposal's workflow has started; start_claimed_until
-- is the lease of the run starting it, so that two runs never start the
-- same ones and a crashed run's are taken up again.
ALTER TABLE matches ADD COLUMN offer_started boolean NOT NULL DEFAULT true,
    ADD COLUMN start_claimed_until timestamptz;
CREATE INDEX matches_to_start ON matches (campaign_id, created_at, id) WHERE NOT offer_started;
