package service

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/campaign"
	"github.com/procurations/procuration/internal/errs"
	"github.com/procurations/procuration/internal/matchrun"
	"github.com/procurations/procuration/internal/store"
	"github.com/procurations/procuration/internal/valid"
)

// CampaignSettings is what support sets when creating a campaign. Nil
// optional values take the defaults.
type CampaignSettings struct {
	ID                   string
	Name                 string
	ElectionID           string
	Sender               string
	BackOfficeApproval   bool
	AnswerWindowHours    *int
	RetentionDays        *int
	MatchingEveryMinutes *int
	LinkReminderDays     []int
	// The public site: colour (default a purple, never the State's blue),
	// logo, tagline, where to make the official request, the communes
	// covered (empty: the whole election).
	Site store.CampaignSite
}

// DefaultCampaignColor is the site's colour when none is set.
const DefaultCampaignColor = "#5a2d82"

// Campaign defaults.
const (
	DefaultAnswerWindowHours    = 48
	DefaultRetentionDays        = 30
	DefaultMatchingEveryMinutes = 60
)

var DefaultLinkReminderDays = []int{2, 5}

var campaignID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}$`)

// CreateCampaign stores a campaign (support only), starts the workflow of
// its lifetime and the schedule of its matching runs.
func (s *Service) CreateCampaign(ctx context.Context, who auth.Claims, c CampaignSettings) (store.Campaign, error) {
	if err := requireRole(who, auth.RoleSupport); err != nil {
		return store.Campaign{}, err
	}
	var fe errs.Fields
	if !campaignID.MatchString(c.ID) {
		fe.Add("id", "identifiant attendu : lettres minuscules, chiffres et tirets (2 à 63)")
	}
	if msg := valid.Text(c.Name, 100, true); msg != "" {
		fe.Add("name", msg)
	}
	var (
		election    store.Election
		electionEnd time.Time
		err         error
	)
	if msg := valid.Text(c.ElectionID, 64, true); msg != "" {
		fe.Add("election_id", msg)
	} else if election, err = s.Store.Election(ctx, c.ElectionID); errors.Is(err, store.ErrNotFound) {
		fe.Add("election_id", "élection inconnue")
	} else if err != nil {
		return store.Campaign{}, s.infra(ctx, err)
	} else if _, electionEnd = matchrun.Bounds(election); !electionEnd.After(s.Now()) {
		fe.Add("election_id", "cette élection est passée")
	}
	if msg := valid.Sender(c.Sender); msg != "" {
		fe.Add("sender", msg)
	}
	window := orDefault(c.AnswerWindowHours, DefaultAnswerWindowHours)
	if window < 1 || window > 720 {
		fe.Add("answer_window_hours", "entre 1 et 720 heures")
	}
	retention := orDefault(c.RetentionDays, DefaultRetentionDays)
	if retention < 1 || retention > 365 {
		fe.Add("retention_days", "entre 1 et 365 jours")
	}
	every := orDefault(c.MatchingEveryMinutes, DefaultMatchingEveryMinutes)
	if every < 0 || every > 10080 {
		fe.Add("matching_every_minutes", "entre 0 (à la demande) et 10080 minutes")
	}
	days := c.LinkReminderDays
	if days == nil {
		days = DefaultLinkReminderDays
	}
	if len(days) > 5 {
		fe.Add("link_reminder_days", "5 relances au plus")
	}
	reminders := make([]int32, len(days))
	for i, d := range days {
		if d < 1 || d > 60 {
			fe.Add(fmt.Sprintf("link_reminder_days[%d]", i), "entre 1 et 60 jours")
		}
		reminders[i] = int32(d)
	}
	site := c.Site
	if site.Color == "" {
		site.Color = DefaultCampaignColor
	}
	if msg := valid.Color(site.Color); msg != "" {
		fe.Add("color", msg)
	}
	if msg := valid.WebAddress(site.LogoURL); msg != "" && !strings.HasPrefix(site.LogoURL, "/static/") {
		fe.Add("logo_url", msg)
	}
	if msg := valid.Text(site.Tagline, 200, false); msg != "" {
		fe.Add("tagline", msg)
	}
	if msg := valid.WebAddress(site.OfficialRequestURL); msg != "" {
		fe.Add("official_request_url", msg)
	}
	if len(site.Communes) > 1000 {
		fe.Add("communes", "1000 communes au plus")
	}
	for i, code := range site.Communes {
		if _, err := s.communeByCode(ctx, code); err != nil {
			fe.Add(fmt.Sprintf("communes[%d]", i), "commune inconnue")
		}
	}
	if err := fe.Err(); err != nil {
		return store.Campaign{}, err
	}
	created, err := s.Store.CreateCampaign(ctx, store.Campaign{ID: c.ID, Name: c.Name, ElectionID: c.ElectionID, Sender: c.Sender,
		BackOfficeApproval: c.BackOfficeApproval, AnswerWindow: time.Duration(window) * time.Hour,
		Retention: time.Duration(retention) * 24 * time.Hour, MatchingEvery: time.Duration(every) * time.Minute, LinkReminderDays: reminders,
		Site: site})
	if errors.Is(err, store.ErrExists) {
		return store.Campaign{}, errs.Conflict(fmt.Sprintf("La campagne %s existe déjà.", c.ID))
	}
	if err != nil {
		return store.Campaign{}, s.infra(ctx, err)
	}
	if err := s.startCampaign(ctx, created, election); err != nil {
		// No campaign without its workflows: undo, and let support retry.
		_ = s.Store.DeleteNewCampaign(context.WithoutCancel(ctx), c.ID)
		return store.Campaign{}, s.infra(ctx, err)
	}
	return created, s.audit(ctx, store.Audit{ActorSub: who.Identity(), ActorRole: who.Role, Action: "campaign.create",
		Details: map[string]any{"campaign": c.ID}})
}

func orDefault(v *int, def int) int {
	if v == nil {
		return def
	}
	return *v
}

// startCampaign starts the workflow that ends the campaign (scheduled runs
// stop at the election's end, personal data is deleted after the retention
// period) and the schedule of its matching runs.
func (s *Service) startCampaign(ctx context.Context, c store.Campaign, election store.Election) error {
	life := s.life(c, election)
	electionEnd := life.ElectionEnd
	if _, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: campaign.LifeWorkflowID(c.ID), TaskQueue: s.TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            fmt.Sprintf("Campagne %s (%s)", c.ID, c.ElectionID),
	}, campaign.LifeWorkflowName, life); err != nil {
		return err
	}
	if c.MatchingEvery <= 0 {
		return nil
	}
	_, err := s.Temporal.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:      campaign.ScheduleID(c.ID),
		Spec:    client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: c.MatchingEvery}}, EndAt: electionEnd},
		Overlap: enums.SCHEDULE_OVERLAP_POLICY_SKIP,
		Action: &client.ScheduleWorkflowAction{ID: campaign.RunWorkflowID(c.ID), Workflow: campaign.RunWorkflowName, Args: []any{c.ID},
			TaskQueue: s.TaskQueue},
	})
	var exists *serviceerror.AlreadyExists
	if errors.As(err, &exists) {
		return nil
	}
	return err
}

// life is the input of the campaign's lifetime workflow: the end of its
// election, its retention, and the rounds before which its requesters still
// without a volunteer are told.
func (s *Service) life(c store.Campaign, e store.Election) campaign.Life {
	_, end := matchrun.Bounds(e)
	l := campaign.Life{Campaign: c.ID, ElectionEnd: end, Retention: c.Retention, UnmatchedNotice: s.UnmatchedNotice}
	for _, r := range e.Rounds {
		l.Rounds = append(l.Rounds, campaign.Round{Number: r.Number, Date: r.Date})
	}
	return l
}

// campaignAgent admits support, and back office agents of the campaign;
// 404 when the campaign does not exist.
func (s *Service) campaignAgent(ctx context.Context, who auth.Claims, id string) (store.Campaign, error) {
	if err := requireRole(who, auth.RoleBackOffice, auth.RoleSupport); err != nil {
		return store.Campaign{}, err
	}
	if who.Role == auth.RoleBackOffice && !who.RunsCampaign(id) {
		return store.Campaign{}, errs.Forbidden("Vous ne travaillez pas pour cette campagne.")
	}
	c, err := s.Store.Campaign(ctx, id)
	return c, s.notFoundOr(ctx, err, errNoCampaign)
}

var errNoCampaign = errs.NotFound("Campagne introuvable.")
