package store

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/procurations/procuration/internal/valid"
)

// Voter is one line of the register extract.
type Voter struct {
	NNE            string    `db:"nne"`
	FamilyName     string    `db:"family_name"`
	GivenNames     string    `db:"given_names"`
	Sex            string    `db:"sex"`
	BirthDate      time.Time `db:"birth_date"`
	CommuneCode    string    `db:"commune_code"`
	PollingStation string    `db:"polling_station"`
	// BirthPlace is the INSEE code of the birthplace, where the extract has it.
	BirthPlace string `db:"birth_place"`
	// The polling station's name and address, where the commune's list of
	// stations has them (read only).
	StationName    string `db:"station_name"`
	StationAddress string `db:"station_address"`
}

// Station is the voter's polling station, to show by name and address.
func (v Voter) Station() PollingStation {
	return PollingStation{Code: v.PollingStation, CommuneCode: v.CommuneCode, Name: v.StationName, Address: v.StationAddress}
}

// voterSelect reads voters with their polling station's name and address.
const voterSelect = `SELECT v.nne, v.family_name, v.given_names, v.sex, v.birth_date, v.commune_code, v.polling_station, v.birth_place,
	coalesce(ps.name, '') AS station_name, coalesce(ps.address, '') AS station_address
	FROM voters v LEFT JOIN polling_stations ps ON ps.code = v.polling_station`

const voterColumns = `nne, family_name, given_names, sex, birth_date, commune_code, polling_station, birth_place`

var (
	nnePattern = regexp.MustCompile(`^[0-9]{8,9}$`)
	inseeCode  = regexp.MustCompile(`^[0-9][0-9AB][0-9]{3}$`)
)

// ValidNNE reports whether s has the shape of a voter number.
func ValidNNE(s string) bool { return nnePattern.MatchString(s) }

func (s *Store) Voter(ctx context.Context, nne string) (Voter, error) {
	return one[Voter](ctx, s.pool, "voter", voterSelect+` WHERE v.nne = $1`, nne)
}

// VotersBorn lists the voters of a commune born on a day: "find my voter
// number" compares their names in Go, as registers write them.
func (s *Store) VotersBorn(ctx context.Context, commune string, birthDate time.Time) ([]Voter, error) {
	return all[Voter](ctx, s.pool, voterSelect+` WHERE v.commune_code = $1 AND v.birth_date = $2 ORDER BY v.nne`,
		commune, birthDate)
}

// Rejected is a line of an import that was not loaded, and why (in French).
type Rejected struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// Import is what a register import did.
type Import struct {
	Imported int
	Rejected []Rejected
	// MoreRejected counts rejected lines beyond those listed.
	MoreRejected int
}

// ErrImportHeader is returned when the extract's first line is not the
// expected header; nothing is imported.
var ErrImportHeader = errors.New("en-tête attendu : nne,family_name,given_names,sex,birth_date,commune_code,polling_station")

var registerHeader = []string{"nne", "family_name", "given_names", "sex", "birth_date", "commune_code", "polling_station"}

// birthPlaceHeader is the optional last column: the INSEE code of the birthplace.
const birthPlaceHeader = "birth_place"

// maxListedRejections bounds the answer of an import of millions of bad lines.
const maxListedRejections = 1000

// ImportRegister upserts the CSV extract by voter number as one unit: it
// streams the lines into PostgreSQL (COPY) and commits once, so an import
// either loads every acceptable line or, on a database failure, none. Bad
// lines are reported and skipped.
func (s *Store) ImportRegister(ctx context.Context, r io.Reader, today time.Time) (Import, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return Import{}, ErrImportHeader
	}
	for i := range header {
		header[i] = strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff"))
	}
	columns := registerHeader
	switch strings.Join(header, ",") {
	case strings.Join(registerHeader, ","):
	case strings.Join(registerHeader, ",") + "," + birthPlaceHeader:
		columns = append(slices.Clone(registerHeader), birthPlaceHeader)
	default:
		return Import{}, ErrImportHeader
	}
	communes, err := s.communeSet(ctx)
	if err != nil {
		return Import{}, err
	}
	var res Import
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE voters_import (LIKE voters INCLUDING DEFAULTS) ON COMMIT DROP`); err != nil {
			return err
		}
		src := &registerSource{csv: cr, communes: communes, today: today, line: 1, res: &res, fields: len(columns)}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"voters_import"}, columns, src); err != nil {
			return err
		}
		// The last line of a voter number wins, as it would row by row.
		tag, err := tx.Exec(ctx, `INSERT INTO voters (`+voterColumns+`)
			SELECT DISTINCT ON (nne) `+voterColumns+` FROM (SELECT *, ctid FROM voters_import ORDER BY nne, ctid DESC) last
			ON CONFLICT (nne) DO UPDATE SET family_name = excluded.family_name, given_names = excluded.given_names,
				sex = excluded.sex, birth_date = excluded.birth_date, commune_code = excluded.commune_code,
				polling_station = excluded.polling_station, updated_at = now()`)
		res.Imported = int(tag.RowsAffected())
		return err
	})
	if err != nil {
		return Import{Rejected: res.Rejected, MoreRejected: res.MoreRejected}, err
	}
	return res, nil
}

// registerSource feeds COPY one parsed line at a time, skipping bad ones,
// so that the extract never sits whole in memory.
type registerSource struct {
	csv      *csv.Reader
	communes map[string]bool
	today    time.Time
	line     int
	fields   int
	row      []any
	res      *Import
	err      error
}

func (r *registerSource) Next() bool {
	for {
		rec, err := r.csv.Read()
		r.line++
		if errors.Is(err, io.EOF) {
			return false
		}
		if err != nil {
			var perr *csv.ParseError
			if !errors.As(err, &perr) {
				r.err = err
				return false
			}
			r.reject("ligne illisible (guillemets ou nombre de champs)")
			continue
		}
		v, reason := parseVoter(rec, r.fields, r.communes, r.today)
		if reason != "" {
			r.reject(reason)
			continue
		}
		r.row = []any{v.NNE, v.FamilyName, v.GivenNames, v.Sex, v.BirthDate, v.CommuneCode, v.PollingStation}
		if r.fields > len(registerHeader) {
			r.row = append(r.row, v.BirthPlace)
		}
		return true
	}
}

func (r *registerSource) reject(reason string) {
	if len(r.res.Rejected) < maxListedRejections {
		r.res.Rejected = append(r.res.Rejected, Rejected{Line: r.line, Reason: reason})
	} else {
		r.res.MoreRejected++
	}
}

func (r *registerSource) Values() ([]any, error) { return r.row, nil }
func (r *registerSource) Err() error             { return r.err }

func parseVoter(rec []string, fields int, communes map[string]bool, today time.Time) (Voter, string) {
	if len(rec) != fields {
		return Voter{}, fmt.Sprintf("%d champs au lieu de %d", len(rec), fields)
	}
	for i := range rec {
		rec[i] = strings.TrimSpace(rec[i])
	}
	v := Voter{NNE: rec[0], FamilyName: rec[1], GivenNames: rec[2], Sex: strings.ToUpper(rec[3]), CommuneCode: rec[5], PollingStation: rec[6]}
	if !ValidNNE(v.NNE) {
		return v, "nne : 8 ou 9 chiffres attendus"
	}
	if msg := valid.Name(v.FamilyName); msg != "" {
		return v, "family_name : " + msg
	}
	if msg := valid.Name(v.GivenNames); msg != "" {
		return v, "given_names : " + msg
	}
	if v.Sex != "F" && v.Sex != "M" {
		return v, "sex : F ou M attendu"
	}
	if !communes[v.CommuneCode] {
		return v, "commune_code : commune inconnue"
	}
	if msg := valid.Text(v.PollingStation, 64, true); msg != "" {
		return v, "polling_station : " + msg
	}
	if fields > len(registerHeader) {
		v.BirthPlace = rec[7]
		if v.BirthPlace != "" && !inseeCode.MatchString(v.BirthPlace) {
			return v, "birth_place : code INSEE attendu (5 caractères)"
		}
	}
	d, msg := valid.BirthDate(rec[4], today)
	if msg != "" {
		return v, "birth_date : " + msg
	}
	v.BirthDate = d
	return v, ""
}

func (s *Store) CountVoters(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM voters`).Scan(&n)
	return n, err
}
