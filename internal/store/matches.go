package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/procurations/procuration/internal/match"
)

// Match is a proposal as the read model holds it.
type Match struct {
	ID                   string       `db:"id"`
	CampaignID           string       `db:"campaign_id"`
	RequestID            string       `db:"request_id"`
	VolunteerID          string       `db:"volunteer_id"`
	Rounds               []int16      `db:"rounds"`
	Tier                 int16        `db:"tier"`
	Status               match.Status `db:"status"`
	LastSeq              int          `db:"last_seq"`
	OfferedAt            *time.Time   `db:"offered_at"`
	AnswerDeadline       *time.Time   `db:"answer_deadline"`
	RequestAnswer        *string      `db:"request_answer"`
	VolunteerAnswer      *string      `db:"volunteer_answer"`
	ProcurationReference *string      `db:"procuration_reference"`
	EndReason            *string      `db:"end_reason"`
	CreatedAt            time.Time    `db:"created_at"`
	UpdatedAt            time.Time    `db:"updated_at"`
	// OfferStarted: the proposal's workflow has started (see StartOffers).
	OfferStarted      bool           `db:"offer_started"`
	StartClaimedUntil *time.Time     `db:"start_claimed_until"`
	History           []HistoryEntry `db:"-"`
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

func (s *Store) Match(ctx context.Context, id string) (Match, error) {
	m, err := one[Match](ctx, s.pool, "match", `SELECT m.* FROM matches m WHERE id = $1`, id)
	if err != nil {
		return m, err
	}
	m.History, err = all[HistoryEntry](ctx, s.pool, `SELECT at, status, actor FROM match_history WHERE match_id = $1 ORDER BY seq`, id)
	return m, err
}

// MatchFilter narrows a campaign's matches for the back office.
type MatchFilter struct {
	Status      string
	Commune     string
	Departement string
	Cursor      string
	Limit       int
}

// Matches pages through a campaign's matches, oldest first.
func (s *Store) Matches(ctx context.Context, campaign string, f MatchFilter) ([]Match, string, error) {
	after, id, err := decodeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	items, err := all[Match](ctx, s.pool, `SELECT m.* FROM matches m JOIN signups r ON r.id = m.request_id
		JOIN communes c ON c.code = r.commune_code
		WHERE m.campaign_id = $1 AND ($2 = '' OR m.status = $2) AND ($3 = '' OR r.commune_code = $3) AND ($4 = '' OR c.departement = $4)
		AND (m.created_at, m.id) > ($5, $6)
		ORDER BY m.created_at, m.id LIMIT $7`, campaign, f.Status, f.Commune, f.Departement, after, id, f.Limit+1)
	if err != nil {
		return nil, "", err
	}
	items, next := page(items, f.Limit, func(x Match) (time.Time, string) { return x.CreatedAt, x.ID })
	return items, next, nil
}

// LiveMatches pages through the matches not yet in a final status, for the
// reconciliation of the read model with the workflows.
func (s *Store) LiveMatches(ctx context.Context, after string, limit int) ([]Match, error) {
	return all[Match](ctx, s.pool, `SELECT m.* FROM matches m
		WHERE m.status NOT IN ('completed', 'declined', 'expired', 'rejected', 'cancelled') AND m.id > $1
		ORDER BY m.id LIMIT $2`, after, limit)
}

// PairDeclined reports whether one of the two declined the other once.
func (s *Store) PairDeclined(ctx context.Context, request, volunteer string) (bool, error) {
	var declined bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM declined_pairs WHERE request_id = $1 AND volunteer_id = $2)`,
		request, volunteer).Scan(&declined)
	return declined, err
}

// DeclinedPairs lists a campaign's pairs never to propose again.
func (s *Store) DeclinedPairs(ctx context.Context, campaign string) ([][2]string, error) {
	type pair struct {
		Request   string `db:"request_id"`
		Volunteer string `db:"volunteer_id"`
	}
	pairs, err := all[pair](ctx, s.pool, `SELECT d.request_id, d.volunteer_id FROM declined_pairs d JOIN signups r ON r.id = d.request_id
		WHERE r.campaign_id = $1`, campaign)
	out := make([][2]string, len(pairs))
	for i, p := range pairs {
		out[i] = [2]string{p.Request, p.Volunteer}
	}
	return out, err
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
	type count struct {
		Key string `db:"key"`
		N   int    `db:"n"`
	}
	for query, into := range map[string]map[string]int{
		`SELECT status AS key, count(*) AS n FROM matches WHERE campaign_id = $1 GROUP BY status`: f.ByStatus,
		`SELECT c.departement AS key, count(*) AS n FROM signups s JOIN communes c ON c.code = s.commune_code
			WHERE s.campaign_id = $1 AND s.status <> 'deleted' GROUP BY c.departement`: f.ByDepartement,
	} {
		counts, err := all[count](ctx, s.pool, query, campaign)
		if err != nil {
			return f, err
		}
		for _, c := range counts {
			into[c.Key] = c.N
		}
	}
	return f, nil
}

// MatchesFollowing lists the live matches linked to an official dossier.
func (s *Store) MatchesFollowing(ctx context.Context, reference string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM matches WHERE procuration_reference = $1 AND status = 'procuration_linked'`, reference)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
