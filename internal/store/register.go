package store

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Voter is one line of the register extract.
type Voter struct {
	NNE            string
	FamilyName     string
	GivenNames     string
	Sex            string
	BirthDate      time.Time
	CommuneCode    string
	PollingStation string
}

var nnePattern = regexp.MustCompile(`^[0-9]{8,9}$`)

// ValidNNE reports whether s has the shape of a voter number.
func ValidNNE(s string) bool { return nnePattern.MatchString(s) }

func (s *Store) Voter(ctx context.Context, nne string) (Voter, error) {
	var v Voter
	err := s.pool.QueryRow(ctx, `SELECT nne, family_name, given_names, sex, birth_date, commune_code, polling_station
		FROM voters WHERE nne = $1`, nne).Scan(&v.NNE, &v.FamilyName, &v.GivenNames, &v.Sex, &v.BirthDate, &v.CommuneCode, &v.PollingStation)
	return v, notFound(err, "voter")
}

// LookupVoter is "find my voter number": names compare without case, and the
// given names match if the register's start with what was typed.
func (s *Store) LookupVoter(ctx context.Context, familyName, givenNames string, birthDate time.Time, commune string) (Voter, error) {
	var v Voter
	err := s.pool.QueryRow(ctx, `SELECT nne, family_name, given_names, sex, birth_date, commune_code, polling_station
		FROM voters WHERE commune_code = $1 AND birth_date = $2 AND lower(family_name) = lower($3)
		AND lower(given_names) LIKE lower($4) || '%' ORDER BY nne LIMIT 1`,
		commune, birthDate, strings.TrimSpace(familyName), strings.TrimSpace(givenNames)).
		Scan(&v.NNE, &v.FamilyName, &v.GivenNames, &v.Sex, &v.BirthDate, &v.CommuneCode, &v.PollingStation)
	return v, notFound(err, "voter")
}

// Rejected is a line of an import that was not loaded, and why (in French).
type Rejected struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

var registerHeader = []string{"nne", "family_name", "given_names", "sex", "birth_date", "commune_code", "polling_station"}

// ImportRegister upserts the CSV extract by voter number, in batches, and
// reports the lines it rejected. A line is rejected whole; the others load.
func (s *Store) ImportRegister(ctx context.Context, r io.Reader) (int, []Rejected, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return 0, nil, fmt.Errorf("en-tête illisible : %w", err)
	}
	for i := range header {
		header[i] = strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff"))
	}
	if strings.Join(header, ",") != strings.Join(registerHeader, ",") {
		return 0, nil, fmt.Errorf("en-tête attendu : %s", strings.Join(registerHeader, ","))
	}
	communes, err := s.communeSet(ctx)
	if err != nil {
		return 0, nil, err
	}
	var (
		rejected []Rejected
		batch    []Voter
		imported int
		line     = 1
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n, err := s.upsertVoters(ctx, batch)
		imported += n
		batch = batch[:0]
		return err
	}
	for {
		rec, err := cr.Read()
		line++
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			rejected = append(rejected, Rejected{Line: line, Reason: "ligne illisible : " + err.Error()})
			continue
		}
		v, reason := parseVoter(rec, communes)
		if reason != "" {
			rejected = append(rejected, Rejected{Line: line, Reason: reason})
			continue
		}
		batch = append(batch, v)
		if len(batch) == 5000 {
			if err := flush(); err != nil {
				return imported, rejected, err
			}
		}
	}
	return imported, rejected, flush()
}

func parseVoter(rec []string, communes map[string]bool) (Voter, string) {
	if len(rec) != len(registerHeader) {
		return Voter{}, fmt.Sprintf("%d champs au lieu de %d", len(rec), len(registerHeader))
	}
	for i := range rec {
		rec[i] = strings.TrimSpace(rec[i])
	}
	v := Voter{NNE: rec[0], FamilyName: rec[1], GivenNames: rec[2], Sex: strings.ToUpper(rec[3]), CommuneCode: rec[5], PollingStation: rec[6]}
	switch {
	case !ValidNNE(v.NNE):
		return v, "nne : 8 ou 9 chiffres attendus"
	case v.FamilyName == "":
		return v, "family_name : obligatoire"
	case v.GivenNames == "":
		return v, "given_names : obligatoire"
	case v.Sex != "F" && v.Sex != "M":
		return v, "sex : F ou M attendu"
	case !communes[v.CommuneCode]:
		return v, "commune_code : commune inconnue"
	case v.PollingStation == "":
		return v, "polling_station : obligatoire"
	}
	d, err := time.Parse(time.DateOnly, rec[4])
	if err != nil {
		return v, "birth_date : date AAAA-MM-JJ attendue"
	}
	v.BirthDate = d
	return v, ""
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

// upsertVoters loads a batch through a temporary table: COPY is an order of
// magnitude faster than row-by-row inserts for a register of millions.
func (s *Store) upsertVoters(ctx context.Context, voters []Voter) (int, error) {
	var n int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE voters_import (LIKE voters INCLUDING DEFAULTS) ON COMMIT DROP`); err != nil {
			return err
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"voters_import"},
			[]string{"nne", "family_name", "given_names", "sex", "birth_date", "commune_code", "polling_station"},
			pgx.CopyFromSlice(len(voters), func(i int) ([]any, error) {
				v := voters[i]
				return []any{v.NNE, v.FamilyName, v.GivenNames, v.Sex, v.BirthDate, v.CommuneCode, v.PollingStation}, nil
			}))
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO voters (nne, family_name, given_names, sex, birth_date, commune_code, polling_station)
			SELECT DISTINCT ON (nne) nne, family_name, given_names, sex, birth_date, commune_code, polling_station FROM voters_import
			ON CONFLICT (nne) DO UPDATE SET family_name = excluded.family_name, given_names = excluded.given_names,
				sex = excluded.sex, birth_date = excluded.birth_date, commune_code = excluded.commune_code,
				polling_station = excluded.polling_station, updated_at = now()`)
		n = int(tag.RowsAffected())
		return err
	})
	return n, err
}

// Commune is one entry of the official geographic code.
type Commune struct {
	Code           string
	Name           string
	Departement    string
	Region         string
	Arrondissement string
	EPCI           string
	Population     int
}

func (s *Store) Commune(ctx context.Context, code string) (Commune, error) {
	var c Commune
	err := s.pool.QueryRow(ctx, `SELECT code, name, departement, region, arrondissement, epci, population
		FROM communes WHERE code = $1`, code).Scan(&c.Code, &c.Name, &c.Departement, &c.Region, &c.Arrondissement, &c.EPCI, &c.Population)
	return c, notFound(err, "commune")
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

func (s *Store) CountVoters(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM voters`).Scan(&n)
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

// Election is a vote of one or two rounds.
type Election struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	Rounds []Round `json:"rounds"`
}

type Round struct {
	Number int    `json:"number"`
	Date   string `json:"date" format:"date"`
}

func (s *Store) Elections(ctx context.Context) ([]Election, error) {
	rows, err := s.pool.Query(ctx, `SELECT e.id, e.name, r.number, r.date FROM elections e
		JOIN election_rounds r ON r.election_id = e.id ORDER BY min(r.date) OVER (PARTITION BY e.id), e.id, r.number`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Election
	for rows.Next() {
		var (
			id, name string
			number   int
			date     time.Time
		)
		if err := rows.Scan(&id, &name, &number, &date); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].ID != id {
			out = append(out, Election{ID: id, Name: name})
		}
		out[len(out)-1].Rounds = append(out[len(out)-1].Rounds, Round{Number: number, Date: date.Format(time.DateOnly)})
	}
	return out, rows.Err()
}

func (s *Store) Election(ctx context.Context, id string) (Election, error) {
	e := Election{ID: id}
	rows, err := s.pool.Query(ctx, `SELECT e.name, r.number, r.date FROM elections e
		JOIN election_rounds r ON r.election_id = e.id WHERE e.id = $1 ORDER BY r.number`, id)
	if err != nil {
		return e, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			number int
			date   time.Time
		)
		if err := rows.Scan(&e.Name, &number, &date); err != nil {
			return e, err
		}
		e.Rounds = append(e.Rounds, Round{Number: number, Date: date.Format(time.DateOnly)})
	}
	if err := rows.Err(); err != nil {
		return e, err
	}
	if len(e.Rounds) == 0 {
		return e, fmt.Errorf("election %s: %w", id, ErrNotFound)
	}
	return e, nil
}

func (s *Store) UpsertElection(ctx context.Context, e Election) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO elections (id, name) VALUES ($1, $2)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name`, e.ID, e.Name); err != nil {
			return err
		}
		for _, r := range e.Rounds {
			if _, err := tx.Exec(ctx, `INSERT INTO election_rounds (election_id, number, date) VALUES ($1, $2, $3)
				ON CONFLICT (election_id, number) DO UPDATE SET date = excluded.date`, e.ID, r.Number, r.Date); err != nil {
				return err
			}
		}
		return nil
	})
}
