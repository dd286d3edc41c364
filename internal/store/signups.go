package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/procurations/procuration/internal/identity"
)

// Signup is a requester's or a volunteer's registration.
type Signup struct {
	ID             string    `db:"id"`
	CampaignID     string    `db:"campaign_id"`
	Side           string    `db:"side"`
	GivenNames     string    `db:"given_names"`
	FamilyName     string    `db:"family_name"`
	BirthDate      time.Time `db:"birth_date"`
	Email          string    `db:"email"`
	Phone          string    `db:"phone"`
	NNE            string    `db:"nne"`
	CommuneCode    string    `db:"commune_code"`
	PollingStation string    `db:"polling_station"`
	Rounds         []int16   `db:"rounds"`
	Status         string    `db:"status"`
	CreatedAt      time.Time `db:"created_at"`
}

const signupColumns = `s.id, s.campaign_id, s.side, s.given_names, s.family_name, s.birth_date, s.email, s.phone, s.nne,
	s.commune_code, s.polling_station, s.rounds, s.status, s.created_at`

const (
	SideRequest   = "request"
	SideVolunteer = "volunteer"
)

// ErrOtherSide means the person is already signed up on the other side.
var ErrOtherSide = errors.New("signed up on the other side")

// SignUp registers a person at an address, or returns their existing
// record when they sign up again with it on the same side (created=false).
// The same person at another address is another record: only the owner of
// an address decides for it.
func (s *Store) SignUp(ctx context.Context, su Signup) (Signup, bool, error) {
	key := identity.Key(su.FamilyName, su.GivenNames, su.BirthDate)
	var created bool
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var existing Signup
		err := tx.QueryRow(ctx, `SELECT id, side, status, created_at FROM signups WHERE campaign_id = $1 AND person_key = $2
			AND lower(email) = lower($3) FOR UPDATE`,
			su.CampaignID, key, su.Email).Scan(&existing.ID, &existing.Side, &existing.Status, &existing.CreatedAt)
		switch {
		case err == nil && existing.Side != su.Side:
			return ErrOtherSide
		case err == nil:
			su.ID, su.Status, su.CreatedAt = existing.ID, existing.Status, existing.CreatedAt
			return nil
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		created = true
		return tx.QueryRow(ctx, `INSERT INTO signups (id, campaign_id, side, person_key, given_names, family_name, birth_date, email,
			phone, nne, commune_code, polling_station, rounds, consent_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, now()) RETURNING status, created_at`,
			su.ID, su.CampaignID, su.Side, key, su.GivenNames, su.FamilyName, su.BirthDate, su.Email, su.Phone, su.NNE,
			su.CommuneCode, su.PollingStation, su.Rounds).Scan(&su.Status, &su.CreatedAt)
	})
	if isUniqueViolation(err) {
		// A concurrent sign-up of the same person won: read theirs.
		return s.SignUp(ctx, su)
	}
	return su, created, err
}

func (s *Store) Signup(ctx context.Context, id string) (Signup, error) {
	return one[Signup](ctx, s.pool, "signup", `SELECT `+signupColumns+` FROM signups s WHERE id = $1`, id)
}

// ErrWithdrawn means the sign-up left the pool and cannot be confirmed.
var ErrWithdrawn = errors.New("sign-up withdrawn")

// ConfirmSignup puts a confirmed person in the pool; confirming twice is
// harmless; a withdrawn or deleted sign-up stays out (ErrWithdrawn).
func (s *Store) ConfirmSignup(ctx context.Context, id string) (string, error) {
	var status string
	err := s.pool.QueryRow(ctx, `UPDATE signups SET status = CASE WHEN status IN ('unconfirmed', 'pool') THEN 'pool' ELSE status END,
		confirmed_at = CASE WHEN status IN ('unconfirmed', 'pool') THEN coalesce(confirmed_at, now()) ELSE confirmed_at END
		WHERE id = $1 RETURNING status`, id).Scan(&status)
	if err != nil {
		return "", notFound(err, "signup")
	}
	if status != "pool" {
		return status, ErrWithdrawn
	}
	return status, nil
}

// PoolMember is a confirmed sign-up with the geography matching needs.
type PoolMember struct {
	ID             string    `db:"id"`
	Side           string    `db:"side"`
	CommuneCode    string    `db:"commune_code"`
	PollingStation string    `db:"polling_station"`
	EPCI           string    `db:"epci"`
	Arrondissement string    `db:"arrondissement"`
	Departement    string    `db:"departement"`
	Rounds         []int16   `db:"rounds"`
	CreatedAt      time.Time `db:"created_at"`
}

// MatchingPool lists a campaign's confirmed sign-ups with the rounds no live
// match holds yet: requesters sent back first in line, then oldest first.
func (s *Store) MatchingPool(ctx context.Context, campaign string) ([]PoolMember, error) {
	return all[PoolMember](ctx, s.pool, poolMemberSelect+`WHERE s.campaign_id = $1 AND s.status = 'pool'
		ORDER BY s.first_in_line DESC, s.created_at, s.id`, campaign)
}

// PoolMembersByID reads those of ids that are in the campaign's pool, as
// MatchingPool does.
func (s *Store) PoolMembersByID(ctx context.Context, campaign string, ids []string) ([]PoolMember, error) {
	return all[PoolMember](ctx, s.pool, poolMemberSelect+`WHERE s.campaign_id = $1 AND s.status = 'pool' AND s.id = ANY($2)`,
		campaign, ids)
}

// VolunteersIn lists up to limit volunteers of the campaign's pool who
// vote in the département, oldest first, for a pair made by hand.
func (s *Store) VolunteersIn(ctx context.Context, campaign, departement string, limit int) ([]PoolMember, error) {
	return all[PoolMember](ctx, s.pool, poolMemberSelect+`WHERE s.campaign_id = $1 AND s.status = 'pool' AND s.side = 'volunteer'
		AND c.departement = $2 ORDER BY s.created_at, s.id LIMIT $3`, campaign, departement, limit)
}

const poolMemberSelect = `SELECT s.id, s.side, s.commune_code, s.polling_station, c.epci, c.arrondissement, c.departement,
	ARRAY(SELECT r FROM unnest(s.rounds) r WHERE NOT EXISTS (
		SELECT 1 FROM match_slots m WHERE m.signup_id = s.id AND m.round = r AND m.live)) AS rounds,
	s.created_at FROM signups s JOIN communes c ON c.code = s.commune_code `

// SignupFilter narrows a campaign's sign-ups for the back office.
type SignupFilter struct {
	Side        string
	Status      string
	Commune     string
	Departement string
	Cursor      string
	Limit       int
}

// Signups pages through a campaign's sign-ups, oldest first.
func (s *Store) Signups(ctx context.Context, campaign string, f SignupFilter) ([]Signup, string, error) {
	after, id, err := decodeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	items, err := all[Signup](ctx, s.pool, `SELECT `+signupColumns+`
		FROM signups s JOIN communes c ON c.code = s.commune_code
		WHERE s.campaign_id = $1 AND s.side = $2 AND ($3 = '' OR s.status = $3) AND ($4 = '' OR s.commune_code = $4)
		AND ($5 = '' OR c.departement = $5) AND (s.created_at, s.id) > ($6, $7)
		ORDER BY s.created_at, s.id LIMIT $8`,
		campaign, f.Side, f.Status, f.Commune, f.Departement, after, id, f.Limit+1)
	if err != nil {
		return nil, "", err
	}
	items, next := page(items, f.Limit, func(x Signup) (time.Time, string) { return x.CreatedAt, x.ID })
	return items, next, nil
}

// Unmatched is a requester to tell that no volunteer was found for a round.
type Unmatched struct {
	ID         string    `db:"id"`
	GivenNames string    `db:"given_names"`
	FamilyName string    `db:"family_name"`
	Email      string    `db:"email"`
	CreatedAt  time.Time `db:"created_at"`
}

// UnmatchedRequesters pages, oldest first, through the campaign's
// confirmed requesters of a round whom no live match holds for it (a
// proposed, offered, accepted, linked or completed match holds it; a
// declined, expired, rejected or cancelled one no longer does) and whose
// notice has neither gone out nor been refused. Pass the returned cursor
// back for the next page; "" when there is none.
func (s *Store) UnmatchedRequesters(ctx context.Context, campaign string, round int, cursor string, limit int) ([]Unmatched, string, error) {
	after, id, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	items, err := all[Unmatched](ctx, s.pool, `SELECT s.id, s.given_names, s.family_name, s.email, s.created_at FROM signups s
		WHERE s.campaign_id = $1 AND s.side = 'request' AND s.status = 'pool' AND $2::smallint = ANY (s.rounds)
		AND (s.created_at, s.id) > ($3, $4)
		AND NOT EXISTS (SELECT 1 FROM match_slots m WHERE m.signup_id = s.id AND m.round = $2 AND m.live)
		AND NOT EXISTS (SELECT 1 FROM sent_emails e WHERE e.key = 'signup/' || s.id || '/unmatched/' || $2::text
			AND (e.sent_at IS NOT NULL OR e.failed_at IS NOT NULL))
		ORDER BY s.created_at, s.id LIMIT $5`, campaign, round, after, id, limit+1)
	if err != nil {
		return nil, "", err
	}
	items, next := page(items, limit, func(u Unmatched) (time.Time, string) { return u.CreatedAt, u.ID })
	return items, next, nil
}

// PendingConfirmations lists, oldest first, the sign-ups whose confirmation
// email has neither gone out nor been refused, while its link would still
// be valid.
func (s *Store) PendingConfirmations(ctx context.Context, within time.Duration, limit int) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT s.id FROM signups s
		WHERE s.status = 'unconfirmed' AND s.created_at > now() - make_interval(secs => $1)
		AND NOT EXISTS (SELECT 1 FROM sent_emails e WHERE e.key = 'signup/' || s.id || '/confirmation'
			AND (e.sent_at IS NOT NULL OR e.failed_at IS NOT NULL))
		ORDER BY s.created_at LIMIT $2`, within.Seconds(), limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
