-- Days after both accepted when the requester is reminded to link the
-- official dossier (a reminder 3 days before the first round comes on top).
ALTER TABLE campaigns ADD COLUMN link_reminder_days integer[] NOT NULL DEFAULT '{2,5}';
