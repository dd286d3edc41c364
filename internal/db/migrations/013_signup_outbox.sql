-- Confirmation emails leave from the sign-ups themselves: the sender reads
-- the unconfirmed ones in order, so a surge of sign-ups costs one row each
-- and the mail relay sets the pace.
CREATE INDEX signups_unconfirmed ON signups (created_at) WHERE status = 'unconfirmed';
