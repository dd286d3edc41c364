-- An email the mail server refused for good (5xx) is recorded as failed,
-- not retried: support sees it, the dossier goes on.
ALTER TABLE sent_emails ADD COLUMN failed_at timestamptz, ADD COLUMN failure text;

-- An Idempotency-Key reused for another request is refused: the key keeps
-- the hash of the request it was first used for.
ALTER TABLE idempotency_keys ADD COLUMN request_hash text NOT NULL DEFAULT '';
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
