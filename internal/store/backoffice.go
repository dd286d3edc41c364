package store

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/procurations/procuration/internal/match"
)

// MatchLine is a match as the back office lists it: its two people by
// name, where they vote.
type MatchLine struct {
	ID                   string       `db:"id"`
	Status               match.Status `db:"status"`
	Tier                 int16        `db:"tier"`
	Rounds               []int16      `db:"rounds"`
	AnswerDeadline       *time.Time   `db:"answer_deadline"`
	ProcurationReference *string      `db:"procuration_reference"`
	EndReason            *string      `db:"end_reason"`
	CreatedAt            time.Time    `db:"created_at"`
	UpdatedAt            time.Time    `db:"updated_at"`
	RequestID            string       `db:"request_id"`
	Requester            string       `db:"requester"`
	RequesterEmail       string       `db:"requester_email"`
	RequesterCommune     string       `db:"requester_commune"`
	Departement          string       `db:"departement"`
	VolunteerID          string       `db:"volunteer_id"`
	Volunteer            string       `db:"volunteer"`
	VolunteerEmail       string       `db:"volunteer_email"`
	VolunteerCommune     string       `db:"volunteer_commune"`
}

const matchLineSelect = `SELECT m.id, m.status, m.tier, m.rounds, m.answer_deadline, m.procuration_reference, m.end_reason,
	m.created_at, m.updated_at, m.request_id, r.given_names || ' ' || r.family_name AS requester, r.email AS requester_email,
	rc.name AS requester_commune, rc.departement, m.volunteer_id, v.given_names || ' ' || v.family_name AS volunteer,
	v.email AS volunteer_email, vc.name AS volunteer_commune
	FROM matches m JOIN signups r ON r.id = m.request_id JOIN signups v ON v.id = m.volunteer_id
	JOIN communes rc ON rc.code = r.commune_code JOIN communes vc ON vc.code = v.commune_code
	WHERE m.campaign_id = $1 `

// MatchLines pages through a campaign's matches as the back office lists
// them, oldest first, narrowed by status and département when set.
func (s *Store) MatchLines(ctx context.Context, campaign string, f MatchFilter) ([]MatchLine, string, error) {
	after, id, err := decodeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	lines, err := all[MatchLine](ctx, s.pool, matchLineSelect+`AND ($2 = '' OR m.status = $2) AND ($3 = '' OR rc.departement = $3)
		AND (m.created_at, m.id) > ($4, $5) ORDER BY m.created_at, m.id LIMIT $6`,
		campaign, f.Status, f.Departement, after, id, f.Limit+1)
	if err != nil {
		return nil, "", err
	}
	lines, next := page(lines, f.Limit, func(l MatchLine) (time.Time, string) { return l.CreatedAt, l.ID })
	return lines, next, nil
}

// MatchLine reads one match of a campaign as the back office lists it.
func (s *Store) MatchLine(ctx context.Context, campaign, id string) (MatchLine, error) {
	return one[MatchLine](ctx, s.pool, "match", matchLineSelect+`AND m.id = $2`, campaign, id)
}

// MatchLinesOf lists the matches of these sign-ups, newest first.
func (s *Store) MatchLinesOf(ctx context.Context, campaign string, signups []string) ([]MatchLine, error) {
	return all[MatchLine](ctx, s.pool, matchLineSelect+`AND (m.request_id = ANY($2) OR m.volunteer_id = ANY($2))
		ORDER BY m.created_at DESC LIMIT 200`, campaign, signups)
}

// EachMatchLine calls fn on every match of a campaign, oldest first, read
// as a stream (an export of tens of thousands fits no page).
func (s *Store) EachMatchLine(ctx context.Context, campaign string, fn func(MatchLine) error) error {
	rows, err := s.pool.Query(ctx, matchLineSelect+`ORDER BY m.created_at, m.id`, campaign)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		line, err := pgx.RowToStructByName[MatchLine](rows)
		if err != nil {
			return err
		}
		if err := fn(line); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ProposedMatchIDs lists the campaign's proposals waiting for the back
// office, oldest first.
func (s *Store) ProposedMatchIDs(ctx context.Context, campaign string, limit int) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM matches WHERE campaign_id = $1 AND status = 'proposed' ORDER BY created_at, id LIMIT $2`,
		campaign, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// CountProposed counts those of ids that are proposals of the campaign
// waiting for the back office.
func (s *Store) CountProposed(ctx context.Context, campaign string, ids []string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM matches WHERE campaign_id = $1 AND id = ANY($2) AND status = 'proposed'`,
		campaign, ids).Scan(&n)
	return n, err
}

// SignupsByID reads a campaign's sign-ups by id.
func (s *Store) SignupsByID(ctx context.Context, campaign string, ids []string) (map[string]Signup, error) {
	list, err := all[Signup](ctx, s.pool, `SELECT `+signupColumns+` FROM signups s WHERE s.campaign_id = $1 AND s.id = ANY($2)`, campaign, ids)
	out := make(map[string]Signup, len(list))
	for _, su := range list {
		out[su.ID] = su
	}
	return out, err
}

// SearchSignups finds a campaign's sign-ups by name (in either order) or
// email address, ignoring case and accents: "chloe" finds "Chloé".
func (s *Store) SearchSignups(ctx context.Context, campaign, q string, limit int) ([]Signup, error) {
	like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.TrimSpace(q)) + "%"
	return all[Signup](ctx, s.pool, `SELECT `+signupColumns+` FROM signups s WHERE s.campaign_id = $1 AND s.status <> 'deleted'
		AND (`+folded("s.given_names || ' ' || s.family_name")+` LIKE `+folded("$2")+`
			OR `+folded("s.family_name || ' ' || s.given_names")+` LIKE `+folded("$2")+`
			OR lower(s.email) LIKE lower($2))
		ORDER BY s.family_name, s.given_names, s.created_at LIMIT $3`, campaign, like, limit)
}

// folded is a text expression lowered and stripped of the accents of the
// Latin letters names carry, with what PostgreSQL has without extensions
// (capitals listed too: lower() leaves them under the C locale).
func folded(expr string) string {
	return "translate(lower(" + expr + "), 'àáâãäåāăąçćčďèéêëēĕėęěìíîïīįłñńňòóôõöøōőŕřśšşţťùúûüūůűųýÿźżžÀÁÂÃÄÅĀĂĄÇĆČĎÈÉÊËĒĔĖĘĚÌÍÎÏĪĮŁÑŃŇÒÓÔÕÖØŌŐŔŘŚŠŞŢŤÙÚÛÜŪŮŰŲÝŹŻŽŸ', " +
		"'aaaaaaaaacccdeeeeeeeeeiiiiiilnnnoooooooorrsssttuuuuuuuuyyzzzaaaaaaaaacccdeeeeeeeeeiiiiiilnnnoooooooorrsssttuuuuuuuuyzzzy')"
}

// DepartementCount is a département's line of the dashboard.
type DepartementCount struct {
	Departement string `db:"departement"`
	Requests    int    `db:"requests"`
	Volunteers  int    `db:"volunteers"`
	Waiting     int    `db:"waiting"`
	Matches     int    `db:"matches"`
	Completed   int    `db:"completed"`
}

// Board is what a campaign's dashboard shows besides its Figures: who is
// still waiting, by département, and the matches that need someone.
type Board struct {
	WaitingRequests     int
	AvailableVolunteers int
	Departements        []DepartementCount
	// NearDeadline are offers whose answer deadline is close.
	NearDeadline []MatchLine
	// NoDossier are accepted matches whose requester linked no dossier.
	NoDossier []MatchLine
	// FailedDossiers are matches whose official dossier did not succeed.
	FailedDossiers []MatchLine
}

// free is a sign-up in the pool with a round no live match holds.
const free = `s.status = 'pool' AND EXISTS (SELECT 1 FROM unnest(s.rounds) r WHERE NOT EXISTS (
	SELECT 1 FROM match_slots ms WHERE ms.signup_id = s.id AND ms.round = r AND ms.live))`

// Board reads the dashboard: near is how close a deadline must be to show,
// stale how long an accepted match may wait for its dossier.
func (s *Store) Board(ctx context.Context, campaign string, now time.Time, near, stale time.Duration) (Board, error) {
	var b Board
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE side = 'request' AND `+free+`),
		count(*) FILTER (WHERE side = 'volunteer' AND `+free+`) FROM signups s WHERE s.campaign_id = $1`, campaign).
		Scan(&b.WaitingRequests, &b.AvailableVolunteers); err != nil {
		return b, err
	}
	var err error
	if b.Departements, err = all[DepartementCount](ctx, s.pool, `SELECT c.departement,
		count(*) FILTER (WHERE s.side = 'request') AS requests, count(*) FILTER (WHERE s.side = 'volunteer') AS volunteers,
		count(*) FILTER (WHERE s.side = 'request' AND `+free+`) AS waiting,
		(SELECT count(*) FROM matches m JOIN signups r ON r.id = m.request_id JOIN communes rc ON rc.code = r.commune_code
			WHERE m.campaign_id = $1 AND rc.departement = c.departement) AS matches,
		(SELECT count(*) FROM matches m JOIN signups r ON r.id = m.request_id JOIN communes rc ON rc.code = r.commune_code
			WHERE m.campaign_id = $1 AND rc.departement = c.departement AND m.status = 'completed') AS completed
		FROM signups s JOIN communes c ON c.code = s.commune_code WHERE s.campaign_id = $1 AND s.status <> 'deleted'
		GROUP BY c.departement ORDER BY count(*) DESC, c.departement LIMIT 200`, campaign); err != nil {
		return b, err
	}
	if b.NearDeadline, err = all[MatchLine](ctx, s.pool, matchLineSelect+`AND m.status = 'awaiting_answer' AND m.answer_deadline < $2
		ORDER BY m.answer_deadline LIMIT 20`, campaign, now.Add(near)); err != nil {
		return b, err
	}
	if b.NoDossier, err = all[MatchLine](ctx, s.pool, matchLineSelect+`AND m.status = 'accepted' AND m.updated_at < $2
		ORDER BY m.updated_at LIMIT 20`, campaign, now.Add(-stale)); err != nil {
		return b, err
	}
	b.FailedDossiers, err = all[MatchLine](ctx, s.pool, matchLineSelect+`AND m.status = 'cancelled' AND m.procuration_reference IS NOT NULL
		AND m.end_reason LIKE 'la procuration n''a pas abouti%' ORDER BY m.updated_at DESC LIMIT 20`, campaign)
	return b, err
}

// CampaignChange is what a campaign's administrator may change.
type CampaignChange struct {
	BackOfficeApproval bool
	AnswerWindow       time.Duration
	Retention          time.Duration
	MatchingEvery      time.Duration
	LinkReminderDays   []int32
}

// UpdateCampaignSettings stores a campaign's new settings and their audit
// line in one transaction.
func (s *Store) UpdateCampaignSettings(ctx context.Context, id string, c CampaignChange, actor Audit) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE campaigns SET back_office_approval = $2, answer_window = make_interval(secs => $3),
			retention = make_interval(secs => $4), matching_every = make_interval(secs => $5), link_reminder_days = $6 WHERE id = $1`,
			id, c.BackOfficeApproval, c.AnswerWindow.Seconds(), c.Retention.Seconds(), c.MatchingEvery.Seconds(), c.LinkReminderDays)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		return insertAudit(ctx, tx, actor)
	})
}
