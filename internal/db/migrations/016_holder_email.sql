-- The holder's address, typed by the grantor, kept only with the grantor's
-- consent that the holder be told by email once the procuration is
-- validated: an address without its consent cannot be stored.
ALTER TABLE procurations ADD COLUMN proxy_email text NOT NULL DEFAULT '',
    ADD COLUMN proxy_email_consent_at timestamptz,
    ADD CONSTRAINT proxy_email_needs_consent CHECK ((proxy_email = '') = (proxy_email_consent_at IS NULL));

-- An email a workflow asked for and that was not sent, and why (no address
-- on file...), recorded under its key in place of sent_at: a retry finds it
-- done.
ALTER TABLE sent_emails ADD COLUMN skipped text;
