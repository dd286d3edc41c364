package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/procurations/procuration/internal/match"
)

// Match is a proposal as the read model holds it.
type Match struct {
	ID                   string
	CampaignID           string
	RequestID            string
	VolunteerID          string
	Rounds               []int16
	Tier                 int16
	Status               match.Status
	OfferedAt            *time.Time
	AnswerDeadline       *time.Time
	RequestAnswer        *string
	VolunteerAnswer      *string
	ProcurationReference *string
	EndReason            *string
	CreatedAt            time.Time
	UpdatedAt            time.Time
	History              []HistoryEntry
}

// NewMatch is a proposal to store.
type NewMatch struct {
	ID          string
	CampaignID  string
	RequestID   string
	VolunteerID string
	Rounds      []int16
	Tier        int16
}

// CreateMatch stores a proposal and takes its people's rounds. It returns
// ErrExists when one of them is already in a live match for one of those
// rounds: the database decides, whatever runs at the same time.
func (s *Store) CreateMatch(ctx context.Context, m NewMatch, at time.Time) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO matches (id, campaign_id, request_id, volunteer_id, rounds, tier, status, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, 'proposed', $7, $7)`, m.ID, m.CampaignID, m.RequestID, m.VolunteerID, m.Rounds, m.Tier, at); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO match_history (match_id, seq, at, status, actor) VALUES ($1, 1, $2, 'proposed', 'system')`,
			m.ID, at); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE signups SET first_in_line = false WHERE id = $1`, m.RequestID); err != nil {
			return err
		}
		for _, person := range []string{m.RequestID, m.VolunteerID} {
			for _, r := range m.Rounds {
				if _, err := tx.Exec(ctx, `INSERT INTO match_slots (match_id, signup_id, round) VALUES ($1, $2, $3)`, m.ID, person, r); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if isUniqueViolation(err) {
		return ErrExists
	}
	return err
}

// RecordMatchStep applies a match workflow step once (by its seq).
func (s *Store) RecordMatchStep(ctx context.Context, st match.Step) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO match_history (match_id, seq, at, status, actor) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT DO NOTHING`, st.MatchID, st.Seq, st.At, st.Status, st.Actor.Role)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		var requestID, volunteerID string
		if err := tx.QueryRow(ctx, `UPDATE matches SET status = $2, last_seq = $3, updated_at = $4,
			offered_at = CASE WHEN $5::timestamptz IS NOT NULL THEN $4 ELSE offered_at END,
			answer_deadline = coalesce($5, answer_deadline),
			procuration_reference = coalesce(nullif($6, ''), procuration_reference),
			end_reason = coalesce(nullif($7, ''), end_reason)
			WHERE id = $1 RETURNING request_id, volunteer_id`,
			st.MatchID, st.Status, st.Seq, st.At, st.Deadline, st.Reference, st.EndReason).Scan(&requestID, &volunteerID); err != nil {
			return err
		}
		if a := st.Answer; a != nil {
			column := "request_answer"
			if a.Party == match.Volunteer {
				column = "volunteer_answer"
			}
			if _, err := tx.Exec(ctx, `UPDATE matches SET `+column+` = $2 WHERE id = $1`, st.MatchID, a.Outcome); err != nil {
				return err
			}
		}
		if !st.Status.Live() {
			// Both people are free for these rounds again.
			if _, err := tx.Exec(ctx, `UPDATE match_slots SET live = false WHERE match_id = $1`, st.MatchID); err != nil {
				return err
			}
		}
		if st.DeclinedPair {
			if _, err := tx.Exec(ctx, `INSERT INTO declined_pairs (request_id, volunteer_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
				requestID, volunteerID); err != nil {
				return err
			}
		}
		for _, party := range st.Withdraw {
			id := requestID
			if party == match.Volunteer {
				id = volunteerID
			}
			if _, err := tx.Exec(ctx, `UPDATE signups SET status = 'withdrawn' WHERE id = $1 AND status = 'pool'`, id); err != nil {
				return err
			}
		}
		if st.FirstInLine {
			if _, err := tx.Exec(ctx, `UPDATE signups SET first_in_line = true WHERE id = $1`, requestID); err != nil {
				return err
			}
		}
		return insertAudit(ctx, tx, Audit{ActorSub: st.Actor.Sub, ActorRole: st.Actor.Role, Action: "match." + st.Action,
			Details: map[string]any{"match": st.MatchID, "status": st.Status, "seq": st.Seq}})
	})
}

const matchColumns = `m.id, m.campaign_id, m.request_id, m.volunteer_id, m.rounds, m.tier, m.status, m.offered_at, m.answer_deadline,
	m.request_answer, m.volunteer_answer, m.procuration_reference, m.end_reason, m.created_at, m.updated_at`

func scanMatch(row pgx.Row) (Match, error) {
	var m Match
	err := row.Scan(&m.ID, &m.CampaignID, &m.RequestID, &m.VolunteerID, &m.Rounds, &m.Tier, &m.Status, &m.OfferedAt, &m.AnswerDeadline,
		&m.RequestAnswer, &m.VolunteerAnswer, &m.ProcurationReference, &m.EndReason, &m.CreatedAt, &m.UpdatedAt)
	return m, err
}

func (s *Store) Match(ctx context.Context, id string) (Match, error) {
	m, err := scanMatch(s.pool.QueryRow(ctx, `SELECT `+matchColumns+` FROM matches m WHERE id = $1`, id))
	if err != nil {
		return m, notFound(err, "match")
	}
	rows, err := s.pool.Query(ctx, `SELECT at, status, actor FROM match_history WHERE match_id = $1 ORDER BY seq`, id)
	if err != nil {
		return m, err
	}
	m.History, err = pgx.CollectRows(rows, pgx.RowToStructByPos[HistoryEntry])
	return m, err
}

// MatchFilter narrows a campaign's matches for the back office.
type MatchFilter struct {
	Status      string
	Commune     string
	Departement string
	Limit       int
}

func (s *Store) Matches(ctx context.Context, campaign string, f MatchFilter) ([]Match, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+matchColumns+` FROM matches m JOIN signups r ON r.id = m.request_id
		JOIN communes c ON c.code = r.commune_code
		WHERE m.campaign_id = $1 AND ($2 = '' OR m.status = $2) AND ($3 = '' OR r.commune_code = $3) AND ($4 = '' OR c.departement = $4)
		ORDER BY m.created_at, m.id LIMIT $5`, campaign, f.Status, f.Commune, f.Departement, f.Limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Match
	for rows.Next() {
		m, err := scanMatch(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// DeclinedPairs lists a campaign's pairs never to propose again.
func (s *Store) DeclinedPairs(ctx context.Context, campaign string) ([][2]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT d.request_id, d.volunteer_id FROM declined_pairs d JOIN signups r ON r.id = d.request_id
		WHERE r.campaign_id = $1`, campaign)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var p [2]string
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Figures are a campaign's counts for its back office.
type Figures struct {
	Requests      int            `json:"requests"`
	Volunteers    int            `json:"volunteers"`
	ByStatus      map[string]int `json:"matches_by_status"`
	ByDepartement map[string]int `json:"signups_by_departement"`
}

func (s *Store) Figures(ctx context.Context, campaign string) (Figures, error) {
	f := Figures{ByStatus: map[string]int{}, ByDepartement: map[string]int{}}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE side = 'request'), count(*) FILTER (WHERE side = 'volunteer')
		FROM signups WHERE campaign_id = $1 AND status <> 'deleted'`, campaign).Scan(&f.Requests, &f.Volunteers); err != nil {
		return f, err
	}
	for query, into := range map[string]map[string]int{
		`SELECT status, count(*) FROM matches WHERE campaign_id = $1 GROUP BY status`: f.ByStatus,
		`SELECT c.departement, count(*) FROM signups s JOIN communes c ON c.code = s.commune_code
			WHERE s.campaign_id = $1 AND s.status <> 'deleted' GROUP BY c.departement`: f.ByDepartement,
	} {
		rows, err := s.pool.Query(ctx, query, campaign)
		if err != nil {
			return f, err
		}
		for rows.Next() {
			var k string
			var n int
			if err := rows.Scan(&k, &n); err != nil {
				rows.Close()
				return f, err
			}
			into[k] = n
		}
		rows.Close()
	}
	return f, nil
}
