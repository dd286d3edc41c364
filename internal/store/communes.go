package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Commune is one entry of the official geographic code.
type Commune struct {
	Code           string `db:"code"`
	Name           string `db:"name"`
	Departement    string `db:"departement"`
	Region         string `db:"region"`
	Arrondissement string `db:"arrondissement"`
	EPCI           string `db:"epci"`
	Population     int    `db:"population"`
}

func (s *Store) Commune(ctx context.Context, code string) (Commune, error) {
	return one[Commune](ctx, s.pool, "commune", `SELECT * FROM communes WHERE code = $1`, code)
}

func (s *Store) communeSet(ctx context.Context) (map[string]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT code FROM communes`)
	if err != nil {
		return nil, err
	}
	codes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	set := make(map[string]bool, len(codes))
	for _, c := range codes {
		set[c] = true
	}
	return set, nil
}

// LoadCommunes replaces the commune list; the codes referenced elsewhere stay.
func (s *Store) LoadCommunes(ctx context.Context, communes []Commune) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE communes_import (LIKE communes) ON COMMIT DROP`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"communes_import"},
			[]string{"code", "name", "departement", "region", "arrondissement", "epci", "population"},
			pgx.CopyFromSlice(len(communes), func(i int) ([]any, error) {
				c := communes[i]
				return []any{c.Code, c.Name, c.Departement, c.Region, c.Arrondissement, c.EPCI, c.Population}, nil
			})); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO communes SELECT * FROM communes_import
			ON CONFLICT (code) DO UPDATE SET name = excluded.name, departement = excluded.departement,
				region = excluded.region, arrondissement = excluded.arrondissement, epci = excluded.epci,
				population = excluded.population`)
		return err
	})
}

func (s *Store) CountCommunes(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM communes`).Scan(&n)
	return n, err
}

// TownHallEmail is where the commune's electoral service gets reminders.
func (s *Store) TownHallEmail(ctx context.Context, commune string) (string, error) {
	var email string
	err := s.pool.QueryRow(ctx, `SELECT email FROM town_hall_contacts WHERE commune_code = $1`, commune).Scan(&email)
	return email, notFound(err, "town hall contact")
}

func (s *Store) SetTownHallEmail(ctx context.Context, commune, email string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO town_hall_contacts (commune_code, email) VALUES ($1, $2)
		ON CONFLICT (commune_code) DO UPDATE SET email = excluded.email`, commune, email)
	return err
}

// AllCommunes lists every commune, for finding one by its name.
func (s *Store) AllCommunes(ctx context.Context) ([]Commune, error) {
	return all[Commune](ctx, s.pool, `SELECT * FROM communes ORDER BY code`)
}
