package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/text/unicode/norm"
)

// Campaign is an organisation's matching platform for one election.
type Campaign struct {
	ID                 string
	Name               string
	ElectionID         string
	Sender             string
	BackOfficeApproval bool
	AnswerWindow       time.Duration
	Retention          time.Duration
	LinkReminderDays   []int32
	CreatedAt          time.Time
}

// ErrExists is returned when a create meets an existing row.
var ErrExists = errors.New("already exists")

func (s *Store) CreateCampaign(ctx context.Context, c Campaign) (Campaign, error) {
	err := s.pool.QueryRow(ctx, `INSERT INTO campaigns (id, name, election_id, sender, back_office_approval)
		VALUES ($1, $2, $3, $4, $5) RETURNING created_at`, c.ID, c.Name, c.ElectionID, c.Sender, c.BackOfficeApproval).Scan(&c.CreatedAt)
	if isUniqueViolation(err) {
		return c, ErrExists
	}
	return c, err
}

func (s *Store) Campaign(ctx context.Context, id string) (Campaign, error) {
	var c Campaign
	var window, retention int64
	err := s.pool.QueryRow(ctx, `SELECT id, name, election_id, sender, back_office_approval,
		extract(epoch FROM answer_window)::bigint, extract(epoch FROM retention)::bigint, link_reminder_days, created_at
		FROM campaigns WHERE id = $1`, id).
		Scan(&c.ID, &c.Name, &c.ElectionID, &c.Sender, &c.BackOfficeApproval, &window, &retention, &c.LinkReminderDays, &c.CreatedAt)
	c.AnswerWindow, c.Retention = time.Duration(window)*time.Second, time.Duration(retention)*time.Second
	return c, notFound(err, "campaign")
}

// Signup is a requester's or a volunteer's registration.
type Signup struct {
	ID             string
	CampaignID     string
	Side           string
	GivenNames     string
	FamilyName     string
	BirthDate      time.Time
	Email          string
	Phone          string
	NNE            string
	CommuneCode    string
	PollingStation string
	Rounds         []int16
	Status         string
	CreatedAt      time.Time
}

const (
	SideRequest   = "request"
	SideVolunteer = "volunteer"
)

// PersonKey identifies a person by names and birth date, whatever the case,
// accents or spacing they were typed with.
func PersonKey(familyName, givenNames string, birth time.Time) string {
	fold := func(s string) string {
		var b strings.Builder
		for _, r := range norm.NFD.String(strings.ToLower(s)) {
			if r >= 'a' && r <= 'z' {
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	first := strings.Fields(givenNames)
	given := ""
	if len(first) > 0 {
		given = first[0]
	}
	sum := sha256.Sum256([]byte(fold(familyName) + "|" + fold(given) + "|" + birth.Format(time.DateOnly)))
	return hex.EncodeToString(sum[:16])
}

// ErrOtherSide means the person is already signed up on the other side.
var ErrOtherSide = errors.New("signed up on the other side")

// SignUp registers a person, or returns their existing record when they
// sign up again on the same side (created=false).
func (s *Store) SignUp(ctx context.Context, su Signup) (Signup, bool, error) {
	key := PersonKey(su.FamilyName, su.GivenNames, su.BirthDate)
	var created bool
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var existing Signup
		err := tx.QueryRow(ctx, `SELECT id, side, status, created_at FROM signups WHERE campaign_id = $1 AND person_key = $2 FOR UPDATE`,
			su.CampaignID, key).Scan(&existing.ID, &existing.Side, &existing.Status, &existing.CreatedAt)
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
	var su Signup
	err := s.pool.QueryRow(ctx, `SELECT id, campaign_id, side, given_names, family_name, birth_date, email, phone, nne, commune_code,
		polling_station, rounds, status, created_at FROM signups WHERE id = $1`, id).
		Scan(&su.ID, &su.CampaignID, &su.Side, &su.GivenNames, &su.FamilyName, &su.BirthDate, &su.Email, &su.Phone, &su.NNE,
			&su.CommuneCode, &su.PollingStation, &su.Rounds, &su.Status, &su.CreatedAt)
	return su, notFound(err, "signup")
}

// ConfirmSignup puts a confirmed person in the pool; confirming twice is harmless.
func (s *Store) ConfirmSignup(ctx context.Context, id string) (string, error) {
	var status string
	err := s.pool.QueryRow(ctx, `UPDATE signups SET status = 'pool', confirmed_at = coalesce(confirmed_at, now())
		WHERE id = $1 AND status IN ('unconfirmed', 'pool') RETURNING status`, id).Scan(&status)
	return status, notFound(err, "signup")
}

// PoolMember is a confirmed sign-up with the geography matching needs.
type PoolMember struct {
	ID             string
	Side           string
	CommuneCode    string
	PollingStation string
	EPCI           string
	Arrondissement string
	Departement    string
	Rounds         []int16
	CreatedAt      time.Time
}

// MatchingPool lists a campaign's confirmed sign-ups with the rounds no live
// match holds yet: requesters sent back first in line, then oldest first.
func (s *Store) MatchingPool(ctx context.Context, campaign string) ([]PoolMember, error) {
	rows, err := s.pool.Query(ctx, `SELECT s.id, s.side, s.commune_code, s.polling_station, c.epci, c.arrondissement, c.departement,
		ARRAY(SELECT r FROM unnest(s.rounds) r WHERE NOT EXISTS (
			SELECT 1 FROM match_slots m WHERE m.signup_id = s.id AND m.round = r AND m.live)) AS rounds,
		s.created_at FROM signups s JOIN communes c ON c.code = s.commune_code
		WHERE s.campaign_id = $1 AND s.status = 'pool' ORDER BY s.first_in_line DESC, s.created_at, s.id`, campaign)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[PoolMember])
}

// DeleteNewCampaign undoes a create whose workflows could not be started.
func (s *Store) DeleteNewCampaign(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM campaigns c WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM signups s WHERE s.campaign_id = c.id)`, id)
	return err
}

// SetCampaignTiming stores the campaign's answer window, retention,
// matching rhythm and link reminders.
func (s *Store) SetCampaignTiming(ctx context.Context, id string, answerWindow, retention, matchingEvery time.Duration, linkReminderDays []int32) error {
	_, err := s.pool.Exec(ctx, `UPDATE campaigns SET answer_window = make_interval(secs => $2), retention = make_interval(secs => $3),
		matching_every = make_interval(secs => $4), link_reminder_days = $5 WHERE id = $1`,
		id, answerWindow.Seconds(), retention.Seconds(), matchingEvery.Seconds(), linkReminderDays)
	return err
}

// PurgeCampaign deletes the personal data of a campaign whose retention
// period is over: sign-ups keep only their commune, rounds and status
// (for the figures), email records lose their recipients.
func (s *Store) PurgeCampaign(ctx context.Context, id string) (int, error) {
	var n int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE signups SET given_names = '', family_name = '', email = '', phone = '', nne = '',
			polling_station = '', birth_date = '1900-01-01', person_key = 'deleted-' || id, status = 'deleted'
			WHERE campaign_id = $1 AND status <> 'deleted'`, id)
		if err != nil {
			return err
		}
		n = int(tag.RowsAffected())
		if _, err := tx.Exec(ctx, `UPDATE sent_emails e SET recipient = '' WHERE
			EXISTS (SELECT 1 FROM signups s WHERE s.campaign_id = $1 AND e.key LIKE 'signup/' || s.id || '/%')
			OR EXISTS (SELECT 1 FROM matches m WHERE m.campaign_id = $1 AND e.key LIKE 'match/' || m.id || '/%')`, id); err != nil {
			return err
		}
		return insertAudit(ctx, tx, Audit{ActorSub: "system", ActorRole: "system", Action: "campaign.purge",
			Details: map[string]any{"campaign": id, "signups": n}})
	})
	return n, err
}

// SignupFilter narrows a campaign's sign-ups for the back office.
type SignupFilter struct {
	Side        string
	Status      string
	Commune     string
	Departement string
	Limit       int
}

func (s *Store) Signups(ctx context.Context, campaign string, f SignupFilter) ([]Signup, error) {
	rows, err := s.pool.Query(ctx, `SELECT s.id, s.campaign_id, s.side, s.given_names, s.family_name, s.birth_date, s.email, s.phone, s.nne,
		s.commune_code, s.polling_station, s.rounds, s.status, s.created_at
		FROM signups s JOIN communes c ON c.code = s.commune_code
		WHERE s.campaign_id = $1 AND s.side = $2 AND ($3 = '' OR s.status = $3) AND ($4 = '' OR s.commune_code = $4)
		AND ($5 = '' OR c.departement = $5) ORDER BY s.first_in_line DESC, s.created_at, s.id LIMIT $6`,
		campaign, f.Side, f.Status, f.Commune, f.Departement, f.Limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Signup])
}
