-- A town hall's queue shows its counts by status on every view: kept up to
-- date by the dossiers' own writes rather than counted each time, which at
-- Paris's scale would read every dossier of the commune at every page.
-- No dossier may change while the counts are first taken.
LOCK TABLE procurations IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE commune_status_counts (
    commune_code text NOT NULL,
    status text NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (commune_code, status)
);

INSERT INTO commune_status_counts
SELECT grantor_commune_code, status, count(*) FROM procurations GROUP BY 1, 2;

CREATE FUNCTION count_commune_status() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    gone text[];
    came text[];
BEGIN
    IF TG_OP <> 'INSERT' THEN
        gone := ARRAY[OLD.grantor_commune_code, OLD.status];
    END IF;
    IF TG_OP <> 'DELETE' THEN
        came := ARRAY[NEW.grantor_commune_code, NEW.status];
    END IF;
    IF gone = came THEN
        RETURN NULL;
    END IF;
    -- Rows are touched in key order, so that two dossiers moving between
    -- the same statuses the opposite way cannot deadlock.
    IF came IS NOT NULL AND (gone IS NULL OR came < gone) THEN
        INSERT INTO commune_status_counts VALUES (came[1], came[2], 1)
        ON CONFLICT (commune_code, status) DO UPDATE SET n = commune_status_counts.n + 1;
        came := NULL;
    END IF;
    IF gone IS NOT NULL THEN
        UPDATE commune_status_counts SET n = n - 1 WHERE commune_code = gone[1] AND status = gone[2];
    END IF;
    IF came IS NOT NULL THEN
        INSERT INTO commune_status_counts VALUES (came[1], came[2], 1)
        ON CONFLICT (commune_code, status) DO UPDATE SET n = commune_status_counts.n + 1;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER procurations_count AFTER INSERT OR DELETE OR UPDATE OF status, grantor_commune_code ON procurations
FOR EACH ROW EXECUTE FUNCTION count_commune_status();
