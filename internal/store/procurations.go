package store

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/procurations/procuration/internal/dossier"
)

// Procuration is a dossier as the read model holds it.
type Procuration struct {
	Reference         string
	Status            dossier.Status
	GrantorSub        string
	GrantorNNE        string
	GrantorGivenNames string
	GrantorFamilyName string
	GrantorBirthDate  *time.Time
	GrantorSex        string
	// GrantorBirthPlace and GrantorBirthCountry are INSEE codes.
	GrantorBirthPlace   string
	GrantorBirthCountry string
	GrantorCommuneCode  string
	GrantorEmail        string
	GrantorPhone        string
	DigitalIdentity     bool
	ProxyNNE            string
	ProxyGivenNames     string
	ProxyFamilyName     string
	ProxyBirthDate      time.Time
	// ProxyEmail is where the holder is told of the validated procuration;
	// only set with the grantor's consent, given at ProxyEmailConsentAt.
	ProxyEmail          string
	ProxyEmailConsentAt *time.Time
	ElectionID          *string
	Rounds              []int16
	ValidFrom           time.Time
	ValidUntil          time.Time
	Police              *PoliceRecord
	TownHall            *TownHallRecord
	CreatedAt           time.Time
	UpdatedAt           time.Time
	LastSeq             int
	History             []HistoryEntry
}

type PoliceRecord struct {
	AgentSub        string
	AgentName       string
	Rank            string
	Unit            string
	At              time.Time
	Outcome         string
	Reason          string
	IDDocumentKind  string
	DigitalIdentity bool
}

type TownHallRecord struct {
	At        time.Time
	Outcome   string
	Reason    string
	Automatic bool
}

// HistoryEntry is one status a dossier or a match went through.
type HistoryEntry struct {
	At     time.Time `db:"at"`
	Status string    `db:"status"`
	Actor  string    `db:"actor"`
}

// procurationRow is the table's row, joined with the police agent's name.
type procurationRow struct {
	Reference           string         `db:"reference"`
	Status              dossier.Status `db:"status"`
	LastSeq             int            `db:"last_seq"`
	GrantorSub          string         `db:"grantor_sub"`
	GrantorNNE          string         `db:"grantor_nne"`
	GrantorGivenNames   string         `db:"grantor_given_names"`
	GrantorFamilyName   string         `db:"grantor_family_name"`
	GrantorBirthDate    *time.Time     `db:"grantor_birth_date"`
	GrantorSex          string         `db:"grantor_sex"`
	GrantorBirthPlace   string         `db:"grantor_birth_place"`
	GrantorBirthCountry string         `db:"grantor_birth_country"`
	GrantorCommuneCode  string         `db:"grantor_commune_code"`
	GrantorEmail        string         `db:"grantor_email"`
	GrantorPhone        string         `db:"grantor_phone"`
	DigitalIdentity     bool           `db:"digital_identity"`
	ProxyNNE            string         `db:"proxy_nne"`
	ProxyGivenNames     string         `db:"proxy_given_names"`
	ProxyFamilyName     string         `db:"proxy_family_name"`
	ProxyBirthDate      time.Time      `db:"proxy_birth_date"`
	ProxyEmail          string         `db:"proxy_email"`
	ProxyEmailConsentAt *time.Time     `db:"proxy_email_consent_at"`
	ElectionID          *string        `db:"election_id"`
	Rounds              []int16        `db:"rounds"`
	ValidFrom           time.Time      `db:"valid_from"`
	ValidUntil          time.Time      `db:"valid_until"`
	PoliceAgentSub      *string        `db:"police_agent_sub"`
	PoliceAgentName     string         `db:"police_agent_name"`
	PoliceRank          *string        `db:"police_rank"`
	PoliceUnit          *string        `db:"police_unit"`
	PoliceAt            *time.Time     `db:"police_at"`
	PoliceOutcome       *string        `db:"police_outcome"`
	PoliceReason        *string        `db:"police_reason"`
	PoliceIDKind        *string        `db:"police_id_kind"`
	PoliceIDFingerprint *string        `db:"police_id_fingerprint"`
	PoliceDigital       bool           `db:"police_digital"`
	TownHallAt          *time.Time     `db:"town_hall_at"`
	TownHallOutcome     *string        `db:"town_hall_outcome"`
	TownHallReason      *string        `db:"town_hall_reason"`
	TownHallAutomatic   bool           `db:"town_hall_automatic"`
	CreatedAt           time.Time      `db:"created_at"`
	UpdatedAt           time.Time      `db:"updated_at"`
	// Coverage is the database's: the days the dossier covers.
	Coverage pgtype.Multirange[pgtype.Range[pgtype.Date]] `db:"coverage"`
}

const selectProcurations = `SELECT p.*, coalesce(trim(a.given_name || ' ' || a.family_name), '') AS police_agent_name
	FROM procurations p LEFT JOIN agents a ON a.sub = p.police_agent_sub`

func (r procurationRow) model() Procuration {
	p := Procuration{
		Reference: r.Reference, Status: r.Status, GrantorSub: r.GrantorSub, GrantorNNE: r.GrantorNNE,
		GrantorGivenNames: r.GrantorGivenNames, GrantorFamilyName: r.GrantorFamilyName, GrantorBirthDate: r.GrantorBirthDate,
		GrantorSex: r.GrantorSex, GrantorBirthPlace: r.GrantorBirthPlace, GrantorBirthCountry: r.GrantorBirthCountry, GrantorCommuneCode: r.GrantorCommuneCode, GrantorEmail: r.GrantorEmail, GrantorPhone: r.GrantorPhone,
		DigitalIdentity: r.DigitalIdentity, ProxyNNE: r.ProxyNNE, ProxyGivenNames: r.ProxyGivenNames, ProxyFamilyName: r.ProxyFamilyName,
		ProxyBirthDate: r.ProxyBirthDate, ProxyEmail: r.ProxyEmail, ProxyEmailConsentAt: r.ProxyEmailConsentAt, ElectionID: r.ElectionID, Rounds: r.Rounds, ValidFrom: r.ValidFrom, ValidUntil: r.ValidUntil,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, LastSeq: r.LastSeq,
	}
	if r.PoliceAt != nil {
		p.Police = &PoliceRecord{At: *r.PoliceAt, Outcome: deref(r.PoliceOutcome), Reason: deref(r.PoliceReason),
			AgentSub: deref(r.PoliceAgentSub), AgentName: r.PoliceAgentName, Rank: deref(r.PoliceRank), Unit: deref(r.PoliceUnit),
			IDDocumentKind: deref(r.PoliceIDKind), DigitalIdentity: r.PoliceDigital}
	}
	if r.TownHallAt != nil {
		p.TownHall = &TownHallRecord{At: *r.TownHallAt, Outcome: deref(r.TownHallOutcome), Reason: deref(r.TownHallReason),
			Automatic: r.TownHallAutomatic}
	}
	return p
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ErrReferenceTaken means a freshly drawn reference already exists: draw again.
var ErrReferenceTaken = errors.New("reference already taken")

// ErrIdempotencyKeyReused means the key was used for another request.
var ErrIdempotencyKeyReused = errors.New("idempotency key used for another request")

// IdempotencyKeyLifetime is how long a create's key answers with its dossier.
const IdempotencyKeyLifetime = 24 * time.Hour

// CreateProcuration inserts a new dossier, its first history line and its
// audit line in one transaction. With an idempotency key the same grantor
// used for the same request (same hash) within the key's lifetime it
// inserts nothing and returns the earlier reference; for another request
// it returns ErrIdempotencyKeyReused.
func (s *Store) CreateProcuration(ctx context.Context, p Procuration, idempotencyKey, requestHash string) (reference string, created bool, err error) {
	err = retryConflicts(ctx, s.pool, func(tx pgx.Tx) error {
		reference, created = "", false
		if idempotencyKey != "" {
			// Serialises concurrent retries of the same create.
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1 || '/' || $2))`, p.GrantorSub, idempotencyKey); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE grantor_sub = $1 AND key = $2 AND created_at < $3`,
				p.GrantorSub, idempotencyKey, p.CreatedAt.Add(-IdempotencyKeyLifetime)); err != nil {
				return err
			}
			var hash string
			err := tx.QueryRow(ctx, `SELECT reference, request_hash FROM idempotency_keys WHERE grantor_sub = $1 AND key = $2`,
				p.GrantorSub, idempotencyKey).Scan(&reference, &hash)
			if err == nil {
				if hash != requestHash {
					return ErrIdempotencyKeyReused
				}
				return nil
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO procurations (reference, status, grantor_sub, grantor_nne, grantor_given_names,
			grantor_family_name, grantor_birth_date, grantor_sex, grantor_commune_code, grantor_email, grantor_phone,
			digital_identity, proxy_nne, proxy_given_names, proxy_family_name, proxy_birth_date, election_id, rounds,
			valid_from, valid_until, created_at, updated_at, grantor_birth_place, grantor_birth_country, proxy_email, proxy_email_consent_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $21, $22, $23, $24, $25)`,
			p.Reference, p.Status, p.GrantorSub, p.GrantorNNE, p.GrantorGivenNames, p.GrantorFamilyName, p.GrantorBirthDate,
			p.GrantorSex, p.GrantorCommuneCode, p.GrantorEmail, p.GrantorPhone, p.DigitalIdentity, p.ProxyNNE,
			p.ProxyGivenNames, p.ProxyFamilyName, p.ProxyBirthDate, p.ElectionID, p.Rounds, p.ValidFrom, p.ValidUntil, p.CreatedAt,
			p.GrantorBirthPlace, p.GrantorBirthCountry, p.ProxyEmail, p.ProxyEmailConsentAt)
		if isUniqueViolation(err) {
			return ErrReferenceTaken
		}
		if isExclusionViolation(err) {
			return &LiveProcurationError{}
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO procuration_history (reference, seq, at, status, actor) VALUES ($1, 1, $2, $3, 'grantor')`,
			p.Reference, p.CreatedAt, p.Status); err != nil {
			return err
		}
		if idempotencyKey != "" {
			if _, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (grantor_sub, key, reference, request_hash, created_at)
				VALUES ($1, $2, $3, $4, $5)`, p.GrantorSub, idempotencyKey, p.Reference, requestHash, p.CreatedAt); err != nil {
				return err
			}
		}
		reference, created = p.Reference, true
		return insertAudit(ctx, tx, Audit{ActorSub: p.GrantorSub, ActorRole: "grantor", Action: "create", Reference: p.Reference})
	})
	var live *LiveProcurationError
	if errors.As(err, &live) {
		// Name the dossier that holds the vote, to its own grantor.
		_ = s.pool.QueryRow(ctx, `SELECT reference FROM procurations WHERE grantor_nne = $1
			AND status IN ('awaiting_police', 'awaiting_town_hall', 'validated') ORDER BY created_at LIMIT 1`, p.GrantorNNE).Scan(&live.Reference)
	}
	return reference, created, err
}

// LiveProcurationError: the vote is already given, or being given, by a
// live dossier covering some of the same days (one live procuration per vote).
type LiveProcurationError struct{ Reference string }

func (e *LiveProcurationError) Error() string {
	return "a live procuration covers these days: " + e.Reference
}

// DeleteUnstartedProcuration undoes a create whose workflow certainly did
// not start, so that no dossier exists without its workflow.
func (s *Store) DeleteUnstartedProcuration(ctx context.Context, reference string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, q := range []string{
			`DELETE FROM idempotency_keys WHERE reference = $1`,
			`DELETE FROM procuration_history WHERE reference = $1`,
			`DELETE FROM procurations WHERE reference = $1 AND last_seq = 1`,
		} {
			if _, err := tx.Exec(ctx, q, reference); err != nil {
				return err
			}
		}
		return insertAudit(ctx, tx, Audit{ActorSub: "system", ActorRole: "system", Action: "create.rolled_back", Reference: reference})
	})
}

// Procuration reads one dossier with its history.
func (s *Store) Procuration(ctx context.Context, reference string) (Procuration, error) {
	var p Procuration
	err := s.readDossier(ctx, reference, &p, nil)
	return p, err
}

// Examination is a dossier with what an agent checks beside it: both people
// as the register has them (nil when absent) and how many cap slots the
// holder holds now.
type Examination struct {
	Grantor, Proxy *Voter
	HolderSlots    int
}

// Examine reads a dossier and what an agent checks beside it in one round
// trip: an officer reads it at a counter with a queue.
func (s *Store) Examine(ctx context.Context, reference string) (Procuration, Examination, error) {
	var (
		p Procuration
		x Examination
	)
	err := s.readDossier(ctx, reference, &p, &x)
	return p, x, err
}

// readDossier sends the dossier's reads as one batch: one round trip and
// one connection, however many statements.
func (s *Store) readDossier(ctx context.Context, reference string, p *Procuration, x *Examination) error {
	b := &pgx.Batch{}
	queueDossier(b, reference, x != nil)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	if err := collectDossier(br, p, x); err != nil {
		return err
	}
	return br.Close()
}

// queueDossier queues the reads of a dossier and its history, and with
// examine what an agent checks beside it, for collectDossier: the one
// dossier read, in its own batch or in a page's with its session.
func queueDossier(b *pgx.Batch, reference string, examine bool) {
	b.Queue(selectProcurations+` WHERE p.reference = $1`, reference)
	b.Queue(`SELECT at, status, actor FROM procuration_history WHERE reference = $1 ORDER BY seq`, reference)
	if examine {
		b.Queue(voterSelect+` JOIN procurations p ON v.nne IN (p.grantor_nne, p.proxy_nne) WHERE p.reference = $1`, reference)
		b.Queue(`SELECT count(*) FROM proxy_slots s JOIN procurations p ON s.proxy_nne = p.proxy_nne
			WHERE p.reference = $1 AND s.released_at IS NULL`, reference)
	}
}

// collectDossier reads what queueDossier queued (x: with examine).
func collectDossier(br pgx.BatchResults, p *Procuration, x *Examination) error {
	rows, _ := br.Query()
	row, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[procurationRow])
	if err != nil {
		return notFound(err, "procuration")
	}
	*p = row.model()
	rows, _ = br.Query()
	if p.History, err = pgx.CollectRows(rows, pgx.RowToStructByName[HistoryEntry]); err != nil || x == nil {
		return err
	}
	rows, _ = br.Query()
	voters, err := pgx.CollectRows(rows, pgx.RowToStructByName[Voter])
	if err != nil {
		return err
	}
	for i := range voters {
		// A voter may be both only in a dossier the rules refused.
		if voters[i].NNE == p.GrantorNNE {
			x.Grantor = &voters[i]
		}
		if voters[i].NNE == p.ProxyNNE {
			x.Proxy = &voters[i]
		}
	}
	return br.QueryRow().Scan(&x.HolderSlots)
}

// ProcurationStatus reads only a dossier's status, for the matches that
// follow it.
func (s *Store) ProcurationStatus(ctx context.Context, reference string) (dossier.Status, error) {
	var st dossier.Status
	err := s.pool.QueryRow(ctx, `SELECT status FROM procurations WHERE reference = $1`, reference).Scan(&st)
	return st, notFound(err, "procuration")
}

// ListByCommune pages through a commune's dossiers, oldest first, by keyset
// so that a page costs the same at the millionth dossier as at the first.
// The cursor is opaque to portals.
func (s *Store) ListByCommune(ctx context.Context, commune string, status dossier.Status, cursor string, limit int) ([]Procuration, string, error) {
	after, ref, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	rows, err := all[procurationRow](ctx, s.pool, selectProcurations+`
		WHERE p.grantor_commune_code = $1 AND ($2 = '' OR p.status = $2)
		AND (p.created_at, p.reference) > ($3, $4)
		ORDER BY p.created_at, p.reference LIMIT $5`, commune, string(status), after, ref, limit+1)
	if err != nil {
		return nil, "", err
	}
	items := make([]Procuration, 0, len(rows))
	for _, r := range rows {
		items = append(items, r.model())
	}
	items, next := page(items, limit, func(p Procuration) (time.Time, string) { return p.CreatedAt, p.Reference })
	return items, next, s.attachHistory(ctx, items)
}

func (s *Store) attachHistory(ctx context.Context, items []Procuration) error {
	if len(items) == 0 {
		return nil
	}
	refs := make([]string, len(items))
	index := make(map[string]int, len(items))
	for i, p := range items {
		refs[i] = p.Reference
		index[p.Reference] = i
	}
	type line struct {
		Reference string `db:"reference"`
		HistoryEntry
	}
	lines, err := all[line](ctx, s.pool, `SELECT reference, at, status, actor FROM procuration_history
		WHERE reference = ANY($1) ORDER BY reference, seq`, refs)
	for _, l := range lines {
		items[index[l.Reference]].History = append(items[index[l.Reference]].History, l.HistoryEntry)
	}
	return err
}

// ProcurationsOf lists a grantor's dossiers, newest first, with their history.
func (s *Store) ProcurationsOf(ctx context.Context, grantor string) ([]Procuration, error) {
	rows, err := all[procurationRow](ctx, s.pool, selectProcurations+` WHERE p.grantor_sub = $1 ORDER BY p.created_at DESC LIMIT 100`, grantor)
	if err != nil {
		return nil, err
	}
	items := make([]Procuration, 0, len(rows))
	for _, r := range rows {
		items = append(items, r.model())
	}
	return items, s.attachHistory(ctx, items)
}

// SearchCommune finds a commune's dossiers by reference or by a name of
// the grantor or the holder, newest first.
func (s *Store) SearchCommune(ctx context.Context, communes []string, text string, limit int) ([]Procuration, error) {
	rows, err := all[procurationRow](ctx, s.pool, selectProcurations+` WHERE p.grantor_commune_code = ANY($1)
		AND (p.reference = upper($2) OR lower(p.grantor_family_name) = lower($2) OR lower(p.proxy_family_name) = lower($2))
		ORDER BY p.created_at DESC LIMIT $3`, communes, text, limit)
	items := make([]Procuration, 0, len(rows))
	for _, r := range rows {
		items = append(items, r.model())
	}
	return items, err
}

// CountByStatus counts a commune's dossiers per status.
func (s *Store) CountByStatus(ctx context.Context, commune string) (map[dossier.Status]int, error) {
	type count struct {
		Status dossier.Status `db:"status"`
		N      int            `db:"n"`
	}
	counts, err := all[count](ctx, s.pool, `SELECT status, n FROM commune_status_counts WHERE commune_code = $1 AND n > 0`, commune)
	out := map[dossier.Status]int{}
	for _, c := range counts {
		out[c.Status] = c.N
	}
	return out, err
}

// Signing is one line of the list a polling station adds to its sign-in
// sheet: who votes for whom.
type Signing struct {
	Reference         string    `db:"reference"`
	ProxyFamilyName   string    `db:"proxy_family_name"`
	ProxyGivenNames   string    `db:"proxy_given_names"`
	ProxyBirthDate    time.Time `db:"proxy_birth_date"`
	GrantorFamilyName string    `db:"grantor_family_name"`
	GrantorGivenNames string    `db:"grantor_given_names"`
	GrantorNNE        string    `db:"grantor_nne"`
	ValidUntil        time.Time `db:"valid_until"`
	PollingStation    string    `db:"polling_station"`
	StationName       string    `db:"station_name"`
	StationAddress    string    `db:"station_address"`
}

// Station is the grantor's polling station, by name and address.
func (l Signing) Station() PollingStation {
	return PollingStation{Code: l.PollingStation, Name: l.StationName, Address: l.StationAddress}
}

// SigningSheet lists the validated procurations covering a day, for the
// grantors registered at a polling station of a commune ("" for all).
func (s *Store) SigningSheet(ctx context.Context, commune, station string, day time.Time) ([]Signing, error) {
	return all[Signing](ctx, s.pool, `SELECT p.reference, p.proxy_family_name, p.proxy_given_names, p.proxy_birth_date,
		p.grantor_family_name, p.grantor_given_names, p.grantor_nne, p.valid_until, v.polling_station,
		coalesce(ps.name, '') AS station_name, coalesce(ps.address, '') AS station_address
		FROM procurations p JOIN voters v ON v.nne = p.grantor_nne LEFT JOIN polling_stations ps ON ps.code = v.polling_station
		WHERE p.grantor_commune_code = $1 AND p.status = 'validated' AND p.coverage @> $3::date
		AND ($2 = '' OR v.polling_station = $2)
		ORDER BY v.polling_station, p.grantor_family_name, p.grantor_given_names`, commune, station, day)
}

// LiveProcurations pages through the dossiers not yet in a final status,
// for the reconciliation of the read model with the workflows.
func (s *Store) LiveProcurations(ctx context.Context, after string, limit int) ([]Procuration, error) {
	rows, err := all[procurationRow](ctx, s.pool, selectProcurations+`
		WHERE p.status NOT IN ('invalidated', 'refused', 'cancelled', 'expired') AND p.reference > $1
		ORDER BY p.reference LIMIT $2`, after, limit)
	out := make([]Procuration, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.model())
	}
	return out, err
}

// ErrBadCursor is returned for a cursor this server did not issue.
var ErrBadCursor = errors.New("bad cursor")

// encodeCursor makes the keyset position (instant, id) of a list opaque.
func encodeCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "|" + id))
}

// decodeCursor reads a cursor back; "" is the start of the list.
func decodeCursor(c string) (time.Time, string, error) {
	if c == "" {
		return time.Time{}, "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", ErrBadCursor
	}
	at, id, ok := strings.Cut(string(raw), "|")
	if !ok {
		return time.Time{}, "", ErrBadCursor
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return time.Time{}, "", ErrBadCursor
	}
	return t, id, nil
}

// RecordStep applies a workflow step to the read model, with its history and
// audit lines, once: a retried activity finds the step's seq already there.
func (s *Store) RecordStep(ctx context.Context, st dossier.Step) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO procuration_history (reference, seq, at, status, actor)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, st.Reference, st.Seq, st.At, st.Status, st.Actor.Role)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE procurations SET status = $2, last_seq = $3, updated_at = $4
			WHERE reference = $1 AND last_seq < $3`, st.Reference, st.Status, st.Seq, st.At); err != nil {
			return err
		}
		details := map[string]any{"status": st.Status, "seq": st.Seq}
		if pol := st.Police; pol != nil {
			if _, err := tx.Exec(ctx, `UPDATE procurations SET police_agent_sub = nullif($2, ''), police_rank = $3, police_unit = $4,
				police_at = $5, police_outcome = $6, police_reason = (SELECT text FROM step_notes WHERE id = $7),
				police_id_kind = nullif($8, ''), police_id_fingerprint = nullif($9, ''), police_digital = $10 WHERE reference = $1`,
				st.Reference, pol.AgentSub, pol.Rank, pol.Unit, st.At, pol.Outcome, pol.ReasonNote, pol.IDDocumentKind,
				pol.IDDocumentFingerprint, pol.DigitalIdentity); err != nil {
				return err
			}
			details["outcome"], details["id_document_kind"], details["id_document_fingerprint"] = pol.Outcome, pol.IDDocumentKind, pol.IDDocumentFingerprint
		}
		if th := st.TownHall; th != nil {
			if _, err := tx.Exec(ctx, `UPDATE procurations SET town_hall_at = $2, town_hall_outcome = $3,
				town_hall_reason = coalesce((SELECT text FROM step_notes WHERE id = $4), nullif($5, '')), town_hall_automatic = $6
				WHERE reference = $1`, st.Reference, st.At, th.Outcome, th.ReasonNote, th.Reason, th.Automatic); err != nil {
				return err
			}
			details["outcome"] = th.Outcome
		}
		return insertAudit(ctx, tx, Audit{ActorSub: st.Actor.Sub, ActorRole: st.Actor.Role, Action: st.Action,
			Reference: st.Reference, Details: details})
	})
}

// SaveNote keeps what an agent typed and returns its id for the workflow.
func (s *Store) SaveNote(ctx context.Context, reference, text string) (string, error) {
	if text == "" {
		return "", nil
	}
	var id string
	err := s.pool.QueryRow(ctx, `INSERT INTO step_notes (id, reference, text) VALUES (gen_random_uuid()::text, $1, $2) RETURNING id`,
		reference, text).Scan(&id)
	return id, err
}

// String keeps personal data out of logs if a Procuration is ever printed.
func (p Procuration) String() string {
	return fmt.Sprintf("procuration %s (%s)", p.Reference, p.Status)
}
