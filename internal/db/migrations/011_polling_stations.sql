-- Polling stations by name and address: people know "École Jules-Ferry,
-- 12 rue Jules-Ferry", never "75056_0012". The register extract names a
-- station by its code; this table, loaded from the commune's list of
-- stations, gives its name and address.
CREATE TABLE polling_stations (
    code text PRIMARY KEY,
    commune_code text NOT NULL,
    name text NOT NULL,
    address text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);
