package store

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/procurations/procuration/internal/valid"
)

// PollingStation is a polling station as its commune lists it.
type PollingStation struct {
	Code        string `db:"code"`
	CommuneCode string `db:"commune_code"`
	Name        string `db:"name"`
	Address     string `db:"address"`
}

// Label is how people name the station: "École Jules-Ferry, 12 rue
// Jules-Ferry (bureau n° 12)"; only the number when the list lacks it.
func (p PollingStation) Label() string {
	number := StationNumber(p.Code)
	switch {
	case p.Name == "":
		return number
	case p.Address == "":
		return p.Name + " (" + number + ")"
	}
	return p.Name + ", " + p.Address + " (" + number + ")"
}

// StationNumber reads "bureau n° 12" out of a code "75056_0012".
func StationNumber(code string) string {
	_, n, ok := strings.Cut(code, "_")
	if !ok {
		n = code
	}
	if trimmed := strings.TrimLeft(n, "0"); trimmed != "" {
		n = trimmed
	}
	return "bureau n° " + n
}

var stationsHeader = []string{"code", "commune_code", "name", "address"}

// ErrStationsHeader is returned when a list of polling stations does not
// start with the expected header; nothing is imported.
var ErrStationsHeader = errors.New("en-tête attendu : " + strings.Join(stationsHeader, ","))

// ImportPollingStations upserts a list of polling stations by code, as one
// unit; bad lines are reported and skipped.
func (s *Store) ImportPollingStations(ctx context.Context, r io.Reader) (Import, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return Import{}, ErrStationsHeader
	}
	for i := range header {
		header[i] = strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff"))
	}
	if strings.Join(header, ",") != strings.Join(stationsHeader, ",") {
		return Import{}, ErrStationsHeader
	}
	communes, err := s.communeSet(ctx)
	if err != nil {
		return Import{}, err
	}
	var res Import
	var stations []PollingStation
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		reject := func(reason string) {
			if len(res.Rejected) < maxListedRejections {
				res.Rejected = append(res.Rejected, Rejected{Line: line, Reason: reason})
			} else {
				res.MoreRejected++
			}
		}
		if err != nil || len(rec) != len(stationsHeader) {
			reject(fmt.Sprintf("ligne illisible ou %d champs au lieu de %d", len(rec), len(stationsHeader)))
			continue
		}
		p := PollingStation{Code: strings.TrimSpace(rec[0]), CommuneCode: strings.TrimSpace(rec[1]),
			Name: strings.TrimSpace(rec[2]), Address: strings.TrimSpace(rec[3])}
		switch {
		case valid.Text(p.Code, 64, true) != "":
			reject("code : " + valid.Text(p.Code, 64, true))
		case !communes[p.CommuneCode]:
			reject("commune_code : commune inconnue")
		case valid.Text(p.Name, 200, true) != "":
			reject("name : " + valid.Text(p.Name, 200, true))
		case valid.Text(p.Address, 300, false) != "":
			reject("address : " + valid.Text(p.Address, 300, false))
		default:
			stations = append(stations, p)
		}
	}
	n, err := s.UpsertPollingStations(ctx, stations)
	res.Imported = n
	return res, err
}

// UpsertPollingStations writes the stations in one transaction.
func (s *Store) UpsertPollingStations(ctx context.Context, stations []PollingStation) (int, error) {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE stations_import (LIKE polling_stations INCLUDING DEFAULTS) ON COMMIT DROP`); err != nil {
			return err
		}
		rows := make([][]any, len(stations))
		for i, p := range stations {
			rows[i] = []any{p.Code, p.CommuneCode, p.Name, p.Address}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"stations_import"}, stationsHeader, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO polling_stations (code, commune_code, name, address)
			SELECT DISTINCT ON (code) code, commune_code, name, address FROM (SELECT *, ctid FROM stations_import ORDER BY code, ctid DESC) last
			ON CONFLICT (code) DO UPDATE SET commune_code = excluded.commune_code, name = excluded.name,
				address = excluded.address, updated_at = now()`)
		return err
	})
	if err != nil {
		return 0, err
	}
	return len(stations), nil
}

// PollingStations reads the stations of the codes; a code the list does
// not know is answered with its number alone.
func (s *Store) PollingStations(ctx context.Context, codes ...string) (map[string]PollingStation, error) {
	found, err := all[PollingStation](ctx, s.pool, `SELECT code, commune_code, name, address FROM polling_stations WHERE code = ANY($1)`, codes)
	if err != nil {
		return nil, err
	}
	out := make(map[string]PollingStation, len(codes))
	for _, c := range codes {
		out[c] = PollingStation{Code: c}
	}
	for _, p := range found {
		out[p.Code] = p
	}
	return out, nil
}

// StationCodes lists the stations the register names, with their commune.
func (s *Store) StationCodes(ctx context.Context) ([]PollingStation, error) {
	return all[PollingStation](ctx, s.pool, `SELECT DISTINCT polling_station AS code, commune_code, '' AS name, '' AS address
		FROM voters WHERE polling_station <> '' ORDER BY 1`)
}

// CommuneStations lists a commune's polling stations the register uses, by
// code, named where the list of stations has them.
func (s *Store) CommuneStations(ctx context.Context, commune string) ([]PollingStation, error) {
	return all[PollingStation](ctx, s.pool, `SELECT st.code, $1::text AS commune_code, coalesce(ps.name, '') AS name, coalesce(ps.address, '') AS address
		FROM (SELECT DISTINCT polling_station AS code FROM voters WHERE commune_code = $1 AND polling_station <> '') st
		LEFT JOIN polling_stations ps ON ps.code = st.code ORDER BY st.code`, commune)
}
