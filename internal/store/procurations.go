package store

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/procurations/procuration/internal/dossier"
)

// Procuration is a dossier as the read model holds it.
type Procuration struct {
	Reference          string
	Status             dossier.Status
	GrantorSub         string
	GrantorNNE         string
	GrantorGivenNames  string
	GrantorFamilyName  string
	GrantorBirthDate   *time.Time
	GrantorSex         string
	GrantorCommuneCode string
	GrantorEmail       string
	GrantorPhone       string
	DigitalIdentity    bool
	ProxyNNE           string
	ProxyGivenNames    string
	ProxyFamilyName    string
	ProxyBirthDate     time.Time
	ElectionID         *string
	Rounds             []int16
	ValidFrom          time.Time
	ValidUntil         time.Time
	Police             *PoliceRecord
	TownHall           *TownHallRecord
	CreatedAt          time.Time
	UpdatedAt          time.Time
	History            []HistoryEntry
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

type HistoryEntry struct {
	At     time.Time
	Status dossier.Status
	Actor  string
}

// ErrReferenceTaken means a freshly drawn reference already exists: draw again.
var ErrReferenceTaken = errors.New("reference already taken")

// CreateProcuration inserts a new dossier, its first history line and its
// audit line in one transaction. With an idempotency key already used by the
// same grantor it inserts nothing and returns the earlier reference.
func (s *Store) CreateProcuration(ctx context.Context, p Procuration, idempotencyKey string) (reference string, created bool, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if idempotencyKey != "" {
			// Serialises concurrent retries of the same create.
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1 || '/' || $2))`, p.GrantorSub, idempotencyKey); err != nil {
				return err
			}
			err := tx.QueryRow(ctx, `SELECT reference FROM idempotency_keys WHERE grantor_sub = $1 AND key = $2`,
				p.GrantorSub, idempotencyKey).Scan(&reference)
			if err == nil {
				return nil
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO procurations (reference, status, grantor_sub, grantor_nne, grantor_given_names,
			grantor_family_name, grantor_birth_date, grantor_sex, grantor_commune_code, grantor_email, grantor_phone,
			digital_identity, proxy_nne, proxy_given_names, proxy_family_name, proxy_birth_date, election_id, rounds,
			valid_from, valid_until, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $21)`,
			p.Reference, p.Status, p.GrantorSub, p.GrantorNNE, p.GrantorGivenNames, p.GrantorFamilyName, p.GrantorBirthDate,
			p.GrantorSex, p.GrantorCommuneCode, p.GrantorEmail, p.GrantorPhone, p.DigitalIdentity, p.ProxyNNE,
			p.ProxyGivenNames, p.ProxyFamilyName, p.ProxyBirthDate, p.ElectionID, p.Rounds, p.ValidFrom, p.ValidUntil, p.CreatedAt)
		if isUniqueViolation(err) {
			return ErrReferenceTaken
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO procuration_history (reference, seq, at, status, actor) VALUES ($1, 1, $2, $3, 'grantor')`,
			p.Reference, p.CreatedAt, p.Status); err != nil {
			return err
		}
		if idempotencyKey != "" {
			if _, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (grantor_sub, key, reference) VALUES ($1, $2, $3)`,
				p.GrantorSub, idempotencyKey, p.Reference); err != nil {
				return err
			}
		}
		reference, created = p.Reference, true
		return insertAudit(ctx, tx, Audit{ActorSub: p.GrantorSub, ActorRole: "grantor", Action: "create", Reference: p.Reference})
	})
	return reference, created, err
}

// DeleteUnstartedProcuration undoes a create whose workflow could not be
// started, so that no dossier exists without its workflow.
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

const procurationColumns = `p.reference, p.status, p.grantor_sub, p.grantor_nne, p.grantor_given_names, p.grantor_family_name,
	p.grantor_birth_date, p.grantor_sex, p.grantor_commune_code, p.grantor_email, p.grantor_phone, p.digital_identity,
	p.proxy_nne, p.proxy_given_names, p.proxy_family_name, p.proxy_birth_date, p.election_id, p.rounds, p.valid_from,
	p.valid_until, p.police_agent_sub, coalesce(trim(a.given_name || ' ' || a.family_name), ''), p.police_rank, p.police_unit,
	p.police_at, p.police_outcome, p.police_reason, p.police_id_kind, p.police_digital, p.town_hall_at, p.town_hall_outcome,
	p.town_hall_reason, p.town_hall_automatic, p.created_at, p.updated_at`

const procurationFrom = ` FROM procurations p LEFT JOIN agents a ON a.sub = p.police_agent_sub`

func scanProcuration(row pgx.Row) (Procuration, error) {
	var (
		p                                                        Procuration
		agentSub, agentName, rank, unit, pOutcome, pReason, kind *string
		pAt, tAt                                                 *time.Time
		tOutcome, tReason                                        *string
		digital, automatic                                       bool
	)
	err := row.Scan(&p.Reference, &p.Status, &p.GrantorSub, &p.GrantorNNE, &p.GrantorGivenNames, &p.GrantorFamilyName,
		&p.GrantorBirthDate, &p.GrantorSex, &p.GrantorCommuneCode, &p.GrantorEmail, &p.GrantorPhone, &p.DigitalIdentity,
		&p.ProxyNNE, &p.ProxyGivenNames, &p.ProxyFamilyName, &p.ProxyBirthDate, &p.ElectionID, &p.Rounds, &p.ValidFrom,
		&p.ValidUntil, &agentSub, &agentName, &rank, &unit, &pAt, &pOutcome, &pReason, &kind, &digital, &tAt, &tOutcome,
		&tReason, &automatic, &p.CreatedAt, &p.UpdatedAt)
	if err != nil {
		return p, err
	}
	if pAt != nil {
		p.Police = &PoliceRecord{At: *pAt, Outcome: deref(pOutcome), Reason: deref(pReason), AgentSub: deref(agentSub),
			AgentName: deref(agentName), Rank: deref(rank), Unit: deref(unit), IDDocumentKind: deref(kind), DigitalIdentity: digital}
	}
	if tAt != nil {
		p.TownHall = &TownHallRecord{At: *tAt, Outcome: deref(tOutcome), Reason: deref(tReason), Automatic: automatic}
	}
	return p, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Procuration reads one dossier with its history.
func (s *Store) Procuration(ctx context.Context, reference string) (Procuration, error) {
	p, err := scanProcuration(s.pool.QueryRow(ctx, `SELECT `+procurationColumns+procurationFrom+` WHERE p.reference = $1`, reference))
	if err != nil {
		return p, notFound(err, "procuration")
	}
	rows, err := s.pool.Query(ctx, `SELECT at, status, actor FROM procuration_history WHERE reference = $1 ORDER BY seq`, reference)
	if err != nil {
		return p, err
	}
	p.History, err = pgx.CollectRows(rows, pgx.RowToStructByPos[HistoryEntry])
	return p, err
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
	var (
		after time.Time
		ref   string
	)
	if cursor != "" {
		var err error
		after, ref, err = decodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
	}
	rows, err := s.pool.Query(ctx, `SELECT `+procurationColumns+procurationFrom+`
		WHERE p.grantor_commune_code = $1 AND ($2 = '' OR p.status = $2)
		AND (p.created_at, p.reference) > ($3, $4)
		ORDER BY p.created_at, p.reference LIMIT $5`, commune, string(status), after, ref, limit+1)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var items []Procuration
	for rows.Next() {
		p, err := scanProcuration(rows)
		if err != nil {
			return nil, "", err
		}
		items = append(items, p)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(items) > limit {
		items = items[:limit]
		last := items[len(items)-1]
		next = encodeCursor(last.CreatedAt, last.Reference)
	}
	if err := s.attachHistory(ctx, items); err != nil {
		return nil, "", err
	}
	return items, next, nil
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
	rows, err := s.pool.Query(ctx, `SELECT reference, at, status, actor FROM procuration_history
		WHERE reference = ANY($1) ORDER BY reference, seq`, refs)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			ref string
			h   HistoryEntry
		)
		if err := rows.Scan(&ref, &h.At, &h.Status, &h.Actor); err != nil {
			return err
		}
		items[index[ref]].History = append(items[index[ref]].History, h)
	}
	return rows.Err()
}

// ErrBadCursor is returned for a cursor this server did not issue.
var ErrBadCursor = errors.New("bad cursor")

func encodeCursor(at time.Time, ref string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "|" + ref))
}

func decodeCursor(c string) (time.Time, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", ErrBadCursor
	}
	at, ref, ok := strings.Cut(string(raw), "|")
	if !ok {
		return time.Time{}, "", ErrBadCursor
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return time.Time{}, "", ErrBadCursor
	}
	return t, ref, nil
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

// ReserveProxySlot checks that grantor and holder are still on the register
// and takes one of the holder's cap slots for this dossier. It returns
// ok=false with a French reason when the law forbids it. Calling it again for
// the same dossier returns the slot it already holds.
func (s *Store) ReserveProxySlot(ctx context.Context, reference string) (ok bool, reason string, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var (
			grantorNNE, proxyNNE string
			proxyBirth           time.Time
			held                 bool
		)
		if err := tx.QueryRow(ctx, `SELECT grantor_nne, proxy_nne, proxy_birth_date,
			EXISTS (SELECT 1 FROM proxy_slots s WHERE s.reference = p.reference AND s.released_at IS NULL)
			FROM procurations p WHERE reference = $1`, reference).Scan(&grantorNNE, &proxyNNE, &proxyBirth, &held); err != nil {
			return notFound(err, "procuration")
		}
		if held {
			ok = true
			return nil
		}
		var grantorOK, proxyOK bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM voters WHERE nne = $1),
			EXISTS (SELECT 1 FROM voters WHERE nne = $2 AND birth_date = $3)`, grantorNNE, proxyNNE, proxyBirth).Scan(&grantorOK, &proxyOK); err != nil {
			return err
		}
		switch {
		case !grantorOK:
			reason = "le mandant n'est pas inscrit sur la liste électorale"
			return nil
		case !proxyOK:
			reason = "le mandataire n'est pas inscrit sur la liste électorale"
			return nil
		}
		// Every procuration this system handles is established in France
		// (police, gendarmerie or France Identité), so the in-France index
		// decides; the slot number bounds the total for those from abroad.
		for slot := 1; slot <= 2; slot++ {
			_, err := tx.Exec(ctx, `SAVEPOINT reserve`)
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `INSERT INTO proxy_slots (reference, proxy_nne, slot, in_france) VALUES ($1, $2, $3, true)`,
				reference, proxyNNE, slot)
			if err == nil {
				ok = true
				return nil
			}
			if !isUniqueViolation(err) {
				return err
			}
			if _, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT reserve`); err != nil {
				return err
			}
		}
		reason = "le mandataire détient déjà le nombre maximal de procurations (article L73 du code électoral)"
		return nil
	})
	return ok, reason, err
}

// ReleaseProxySlot frees the dossier's slot, if it holds one.
func (s *Store) ReleaseProxySlot(ctx context.Context, reference string) error {
	_, err := s.pool.Exec(ctx, `UPDATE proxy_slots SET released_at = now() WHERE reference = $1 AND released_at IS NULL`, reference)
	return err
}

// ActiveSlots counts the slots a holder holds now.
func (s *Store) ActiveSlots(ctx context.Context, proxyNNE string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM proxy_slots WHERE proxy_nne = $1 AND released_at IS NULL`, proxyNNE).Scan(&n)
	return n, err
}

// ErrMailSent tells the mail activity that this email went out already.
var ErrMailSent = errors.New("email already sent")

// ClaimMail records an email about to be sent, or reports ErrMailSent when
// its key was sent before. The Message-ID stays the same across retries so
// that a copy sent twice after a crash is recognisable as one message.
func (s *Store) ClaimMail(ctx context.Context, key, reference, kind, recipient, subject, messageID string) (string, error) {
	var (
		sentAt *time.Time
		msgID  string
	)
	var ref *string
	if reference != "" {
		ref = &reference
	}
	err := s.pool.QueryRow(ctx, `INSERT INTO sent_emails (key, reference, kind, recipient, subject, message_id)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (key) DO UPDATE SET key = excluded.key
		RETURNING sent_at, message_id`, key, ref, kind, recipient, subject, messageID).Scan(&sentAt, &msgID)
	if err != nil {
		return "", err
	}
	if sentAt != nil {
		return msgID, ErrMailSent
	}
	return msgID, nil
}

func (s *Store) MarkMailSent(ctx context.Context, key string) error {
	_, err := s.pool.Exec(ctx, `UPDATE sent_emails SET sent_at = now() WHERE key = $1`, key)
	return err
}

// SentMail is one line of the sent-mail record.
type SentMail struct {
	Key       string
	Kind      string
	Recipient string
	SentAt    *time.Time
}

func (s *Store) SentMails(ctx context.Context, reference string) ([]SentMail, error) {
	rows, err := s.pool.Query(ctx, `SELECT key, kind, recipient, sent_at FROM sent_emails WHERE reference = $1 ORDER BY created_at, key`, reference)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[SentMail])
}

// String keeps personal data out of logs if a Procuration is ever printed.
func (p Procuration) String() string {
	return fmt.Sprintf("procuration %s (%s)", p.Reference, p.Status)
}
