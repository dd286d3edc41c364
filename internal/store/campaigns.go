package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
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
	MatchingEvery      time.Duration
	LinkReminderDays   []int32
	CreatedAt          time.Time
	Site               CampaignSite
}

// CampaignSite is how the campaign's public site and emails present it.
type CampaignSite struct {
	// Color is the campaign's colour (#rrggbb), contrasted enough on white.
	Color   string `db:"color"`
	LogoURL string `db:"logo_url"`
	Tagline string `db:"tagline"`
	// OfficialRequestURL is where its requesters make the official request;
	// empty: this deployment's grantor portal.
	OfficialRequestURL string `db:"official_request_url"`
	// Communes it covers (a municipal list's); empty: the whole election.
	Communes []string `db:"communes"`
}

// RequestURL is where the campaign's requesters make the official request:
// its own choice, or the grantor portal of the deployment at publicURL.
func (s CampaignSite) RequestURL(publicURL string) string {
	if s.OfficialRequestURL != "" {
		return s.OfficialRequestURL
	}
	return publicURL + "/demande"
}

type campaignRow struct {
	ID                 string    `db:"id"`
	Name               string    `db:"name"`
	ElectionID         string    `db:"election_id"`
	Sender             string    `db:"sender"`
	BackOfficeApproval bool      `db:"back_office_approval"`
	AnswerWindow       int64     `db:"answer_window"`
	Retention          int64     `db:"retention"`
	MatchingEvery      int64     `db:"matching_every"`
	LinkReminderDays   []int32   `db:"link_reminder_days"`
	CreatedAt          time.Time `db:"created_at"`
	CampaignSite
}

func (s *Store) CreateCampaign(ctx context.Context, c Campaign) (Campaign, error) {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if c.Site.Communes == nil {
			c.Site.Communes = []string{}
		}
		return tx.QueryRow(ctx, `INSERT INTO campaigns (id, name, election_id, sender, back_office_approval, answer_window,
			retention, matching_every, link_reminder_days, color, logo_url, tagline, official_request_url, communes)
			VALUES ($1, $2, $3, $4, $5, make_interval(secs => $6), make_interval(secs => $7), make_interval(secs => $8), $9,
				$10, $11, $12, $13, $14)
			RETURNING created_at`, c.ID, c.Name, c.ElectionID, c.Sender, c.BackOfficeApproval, c.AnswerWindow.Seconds(),
			c.Retention.Seconds(), c.MatchingEvery.Seconds(), c.LinkReminderDays,
			c.Site.Color, c.Site.LogoURL, c.Site.Tagline, c.Site.OfficialRequestURL, c.Site.Communes).Scan(&c.CreatedAt)
	})
	if isUniqueViolation(err) {
		return c, ErrExists
	}
	return c, err
}

func (s *Store) Campaign(ctx context.Context, id string) (Campaign, error) {
	r, err := one[campaignRow](ctx, s.pool, "campaign", `SELECT id, name, election_id, sender, back_office_approval,
		extract(epoch FROM answer_window)::bigint AS answer_window, extract(epoch FROM retention)::bigint AS retention,
		extract(epoch FROM matching_every)::bigint AS matching_every, link_reminder_days, created_at,
		color, logo_url, tagline, official_request_url, communes
		FROM campaigns WHERE id = $1`, id)
	return Campaign{ID: r.ID, Name: r.Name, ElectionID: r.ElectionID, Sender: r.Sender, BackOfficeApproval: r.BackOfficeApproval,
		AnswerWindow: time.Duration(r.AnswerWindow) * time.Second, Retention: time.Duration(r.Retention) * time.Second,
		MatchingEvery: time.Duration(r.MatchingEvery) * time.Second, LinkReminderDays: r.LinkReminderDays, CreatedAt: r.CreatedAt,
		Site: r.CampaignSite}, err
}

// DeleteNewCampaign undoes a create whose workflows could not be started.
func (s *Store) DeleteNewCampaign(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM campaigns c WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM signups s WHERE s.campaign_id = c.id)`, id)
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
