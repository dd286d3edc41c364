-- How often the campaign's schedule runs the matching; 0: on demand only.
ALTER TABLE campaigns ADD COLUMN matching_every interval NOT NULL DEFAULT '1 hour';
