-- What agents type (a refusal or invalidation reason) may name people, so it
-- stays here; the workflow carries only the note's id.
CREATE TABLE step_notes (
    id         text PRIMARY KEY,
    reference  text NOT NULL REFERENCES procurations (reference),
    text       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
