-- The identité pivot's birthplace and birth country (INSEE codes), as the
-- grantor's identity provider asserted them: the officer sees them beside
-- the register's.
ALTER TABLE procurations ADD COLUMN grantor_birth_place text NOT NULL DEFAULT '',
    ADD COLUMN grantor_birth_country text NOT NULL DEFAULT '';
