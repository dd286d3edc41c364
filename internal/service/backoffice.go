package service

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/campaign"
	"github.com/procurations/procuration/internal/errs"
	"github.com/procurations/procuration/internal/match"
	"github.com/procurations/procuration/internal/matchrun"
	"github.com/procurations/procuration/internal/store"
)

// The campaign's back office: its team reads its figures, runs and
// approves its matching, finds its people, exports its matches; its
// administrators set it up and choose its team.

// BackOfficeCampaign is the campaign as its team (or support) reads it.
func (s *Service) BackOfficeCampaign(ctx context.Context, who auth.Claims, id string) (store.Campaign, error) {
	return s.campaignAgent(ctx, who, id)
}

// CampaignsOf lists the campaigns a back office agent works for.
func (s *Service) CampaignsOf(ctx context.Context, who auth.Claims) ([]store.Campaign, error) {
	if err := requireRole(who, auth.RoleBackOffice); err != nil {
		return nil, err
	}
	var out []store.Campaign
	for _, id := range who.Campaigns {
		c, err := s.Store.Campaign(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, s.infra(ctx, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// CampaignAdmin reports whether who administers the campaign: support, or
// a back office agent holding an administrator's right on it today. The
// rights are read again: an administrator of one campaign is not one of
// the others they work for.
func (s *Service) CampaignAdmin(ctx context.Context, who auth.Claims, id string) (bool, error) {
	switch {
	case who.Role == auth.RoleSupport:
		return true, nil
	case who.Role != auth.RoleBackOffice || !who.RunsCampaign(id):
		return false, nil
	}
	rights, err := s.Store.ActiveRights(ctx, who.Identity(), s.Now())
	if err != nil {
		return false, s.infra(ctx, err)
	}
	for _, r := range rights {
		if r.Role == auth.RoleBackOffice && r.Admin && slices.Contains(r.Campaigns, id) {
			return true, nil
		}
	}
	return false, nil
}

func (s *Service) requireCampaignAdmin(ctx context.Context, who auth.Claims, id string) (store.Campaign, error) {
	c, err := s.campaignAgent(ctx, who, id)
	if err != nil {
		return c, err
	}
	admin, err := s.CampaignAdmin(ctx, who, id)
	if err != nil {
		return c, err
	}
	if !admin {
		return c, errs.Forbidden("Seul un administrateur de la campagne peut faire cela.")
	}
	return c, nil
}

// Dashboard is a campaign's dashboard.
type Dashboard struct {
	Campaign store.Campaign
	Figures  store.Figures
	Board    store.Board
	// Near and Stale are the thresholds of what needs attention.
	Near, Stale time.Duration
}

// Dashboard thresholds: an offer whose deadline is within a day, an
// accepted match with no dossier after two days.
const (
	DashboardNear  = 24 * time.Hour
	DashboardStale = 48 * time.Hour
)

// Dashboard reads a campaign's figures and what needs attention.
func (s *Service) Dashboard(ctx context.Context, who auth.Claims, id string) (Dashboard, error) {
	c, err := s.campaignAgent(ctx, who, id)
	if err != nil {
		return Dashboard{}, err
	}
	d := Dashboard{Campaign: c, Near: DashboardNear, Stale: DashboardStale}
	if d.Figures, err = s.Store.Figures(ctx, id); err != nil {
		return d, s.infra(ctx, err)
	}
	d.Board, err = s.Store.Board(ctx, id, s.Now(), DashboardNear, DashboardStale)
	return d, s.infra(ctx, err)
}

// ProposalLine is a proposal of a run, with its people.
type ProposalLine struct {
	matchrun.Proposal
	Request, Volunteer store.Signup
}

// RunResult is a run, dry or real, as the back office reads it.
type RunResult struct {
	DryRun    bool
	Proposals []ProposalLine
	Unmatched int
	// ByTier counts the proposals by proximity (0: same polling station).
	ByTier [5]int
}

// RunMatchingWithPeople runs the matching and names the people of its
// proposals.
func (s *Service) RunMatchingWithPeople(ctx context.Context, who auth.Claims, id string, dryRun bool) (RunResult, error) {
	res, err := s.RunMatching(ctx, who, id, dryRun)
	if err != nil {
		return RunResult{}, err
	}
	out := RunResult{DryRun: dryRun, Unmatched: res.Unmatched}
	ids := make([]string, 0, 2*len(res.Proposals))
	for _, p := range res.Proposals {
		ids = append(ids, p.RequestID, p.VolunteerID)
	}
	people, err := s.Store.SignupsByID(ctx, id, ids)
	if err != nil {
		return out, s.infra(ctx, err)
	}
	for _, p := range res.Proposals {
		out.Proposals = append(out.Proposals, ProposalLine{Proposal: p, Request: people[p.RequestID], Volunteer: people[p.VolunteerID]})
		if p.Tier >= 0 && p.Tier < len(out.ByTier) {
			out.ByTier[p.Tier]++
		}
	}
	return out, nil
}

// MatchLines lists a campaign's matches of a status.
func (s *Service) MatchLines(ctx context.Context, who auth.Claims, id string, f store.MatchFilter) ([]store.MatchLine, string, error) {
	if _, err := s.campaignAgent(ctx, who, id); err != nil {
		return nil, "", err
	}
	lines, next, err := s.Store.MatchLines(ctx, id, f)
	if errors.Is(err, store.ErrBadCursor) {
		return nil, "", errs.InvalidField("query.apres", "page inconnue")
	}
	return lines, next, s.infra(ctx, err)
}

// MatchDetail is one match for its back office: its people and history.
type MatchDetail struct {
	Line  store.MatchLine
	Match store.Match
}

// MatchDetail reads one of a campaign's matches; another campaign's is 404.
func (s *Service) MatchDetail(ctx context.Context, who auth.Claims, id, matchID string) (MatchDetail, error) {
	if _, err := s.campaignAgent(ctx, who, id); err != nil {
		return MatchDetail{}, err
	}
	line, err := s.Store.MatchLine(ctx, id, matchID)
	if err != nil {
		return MatchDetail{}, s.notFoundOr(ctx, err, errNoMatch)
	}
	m, err := s.Store.Match(ctx, matchID)
	return MatchDetail{Line: line, Match: m}, s.infra(ctx, err)
}

// CancelMatch ends one of a campaign's live matches, both people told;
// the match's workflow runs its cancellation, and the answer waits a few
// seconds for the read model to show it.
func (s *Service) CancelMatch(ctx context.Context, who auth.Claims, id, matchID string) (store.Match, error) {
	if _, err := s.campaignAgent(ctx, who, id); err != nil {
		return store.Match{}, err
	}
	m, _, err := s.loadMatch(ctx, who, matchID)
	if err == nil && m.CampaignID != id {
		err = errNoMatch
	}
	if err != nil {
		return m, err
	}
	if m.Status.Final() {
		return m, matchWrongState(m.Status)
	}
	if err := s.Temporal.CancelWorkflow(ctx, match.WorkflowID(m.ID), ""); err != nil {
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) {
			return m, matchWrongState(m.Status)
		}
		return m, s.infra(ctx, err)
	}
	if err := s.audit(ctx, store.Audit{ActorSub: who.Identity(), ActorRole: who.Role, Action: "match.cancel",
		Details: map[string]any{"campaign": id, "match": m.ID}}); err != nil {
		return m, err
	}
	for range 50 {
		fresh, err := s.Store.Match(ctx, m.ID)
		if err != nil {
			return m, s.infra(ctx, err)
		}
		if m = fresh; m.Status.Final() {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return m, nil
}

// PersonFound is a sign-up a search found, with its matches.
type PersonFound struct {
	Signup  store.Signup
	Matches []store.MatchLine
}

// SearchPeople finds a campaign's sign-ups by name or email.
func (s *Service) SearchPeople(ctx context.Context, who auth.Claims, id, q string) ([]PersonFound, error) {
	if _, err := s.campaignAgent(ctx, who, id); err != nil {
		return nil, err
	}
	if q = strings.TrimSpace(q); len([]rune(q)) < 2 || len(q) > 200 {
		return nil, errs.InvalidField("q", "au moins 2 caractères")
	}
	found, err := s.Store.SearchSignups(ctx, id, q, 50)
	if err != nil {
		return nil, s.infra(ctx, err)
	}
	ids := make([]string, len(found))
	for i, su := range found {
		ids[i] = su.ID
	}
	lines, err := s.Store.MatchLinesOf(ctx, id, ids)
	if err != nil {
		return nil, s.infra(ctx, err)
	}
	out := make([]PersonFound, len(found))
	for i, su := range found {
		out[i].Signup = su
		for _, l := range lines {
			if l.RequestID == su.ID || l.VolunteerID == su.ID {
				out[i].Matches = append(out[i].Matches, l)
			}
		}
	}
	return out, s.audit(ctx, store.Audit{ActorSub: who.Identity(), ActorRole: who.Role, Action: "signup.search",
		Details: map[string]any{"campaign": id, "found": len(found)}})
}

// ExportMatches hands every match of the campaign to fn, and audits the
// export: it carries the people's contacts.
func (s *Service) ExportMatches(ctx context.Context, who auth.Claims, id string, fn func(store.MatchLine) error) error {
	if _, err := s.campaignAgent(ctx, who, id); err != nil {
		return err
	}
	if err := s.audit(ctx, store.Audit{ActorSub: who.Identity(), ActorRole: who.Role, Action: "matches.export",
		Details: map[string]any{"campaign": id}}); err != nil {
		return err
	}
	return s.infra(ctx, s.Store.EachMatchLine(ctx, id, fn))
}

// BulkMax bounds one bulk approval.
const BulkMax = 20000

var jobID = regexp.MustCompile(`^[0-9a-f]{16}$`)

// StartBulkApproval approves or rejects proposals in the background: the
// chosen ones, or every proposal of the campaign (all). It answers the
// job's id at once; BulkApproval reads its progress.
func (s *Service) StartBulkApproval(ctx context.Context, who auth.Claims, id string, ids []string, all bool, outcome string) (string, error) {
	if _, err := s.campaignAgent(ctx, who, id); err != nil {
		return "", err
	}
	if outcome != "approved" && outcome != "rejected" {
		return "", errs.InvalidField("outcome", "approved ou rejected attendu")
	}
	if all && len(ids) > 0 {
		return "", errs.InvalidField("all", "des propositions choisies ou toutes, pas les deux")
	}
	if all {
		var err error
		if ids, err = s.Store.ProposedMatchIDs(ctx, id, BulkMax); err != nil {
			return "", s.infra(ctx, err)
		}
	}
	var clean []string
	seen := map[string]bool{}
	for _, m := range ids {
		if strings.HasPrefix(m, "m-") && len(m) <= 40 && !seen[m] {
			seen[m] = true
			clean = append(clean, m)
		}
	}
	switch {
	case len(clean) == 0:
		return "", errs.InvalidField("ids", "choisissez au moins une proposition")
	case len(clean) > BulkMax:
		return "", errs.InvalidField("ids", fmt.Sprintf("%d propositions au plus à la fois", BulkMax))
	}
	// A job with nothing to do is refused at once, rather than failing
	// every line in the background (all read only proposals).
	waiting := len(clean)
	if !all {
		var err error
		if waiting, err = s.Store.CountProposed(ctx, id, clean); err != nil {
			return "", s.infra(ctx, err)
		}
	}
	if waiting == 0 {
		return "", errs.InvalidField("ids", "aucune de ces propositions n'attend votre décision")
	}
	job := newID("b")[2:]
	if _, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: campaign.BulkWorkflowID(id, job), TaskQueue: campaign.RunsTaskQueue(s.TaskQueue),
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		StaticSummary:            fmt.Sprintf("Campagne %s : %d propositions (%s)", id, len(clean), outcome),
	}, campaign.BulkWorkflowName, campaign.Bulk{Campaign: id, Outcome: outcome, IDs: clean,
		Actor: campaign.BulkActor{Issuer: who.Issuer, Subject: who.Subject, Role: who.Role, Campaigns: who.Campaigns, Asserted: who.Asserted}}); err != nil {
		return "", s.infra(ctx, err)
	}
	return job, s.audit(ctx, store.Audit{ActorSub: who.Identity(), ActorRole: who.Role, Action: "matches.bulk",
		Details: map[string]any{"campaign": id, "job": job, "outcome": outcome, "count": len(clean)}})
}

var errNoJob = errs.NotFound("Traitement introuvable.")

// BulkApproval reads a bulk approval's progress.
func (s *Service) BulkApproval(ctx context.Context, who auth.Claims, id, job string) (campaign.BulkProgress, error) {
	if _, err := s.campaignAgent(ctx, who, id); err != nil {
		return campaign.BulkProgress{}, err
	}
	if !jobID.MatchString(job) {
		return campaign.BulkProgress{}, errNoJob
	}
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	v, err := s.Temporal.QueryWorkflow(ctx, campaign.BulkWorkflowID(id, job), "", campaign.QueryBulkProgress)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return campaign.BulkProgress{}, errNoJob
	}
	if errors.Is(err, context.DeadlineExceeded) || errs.Unreachable(err) {
		return campaign.BulkProgress{}, errs.ServiceUnavailable(err)
	}
	if err != nil {
		return campaign.BulkProgress{}, s.infra(ctx, err)
	}
	var p campaign.BulkProgress
	return p, s.infra(ctx, v.Get(&p))
}

// ApproveBatch is one batch of a bulk approval, as its activity runs it:
// the actor's rights are read again, the matches must be the campaign's.
func (s *Service) ApproveBatch(ctx context.Context, b campaign.BulkBatch) ([]campaign.BulkItem, error) {
	// The rights of today, not those of when the job started; a service
	// client's role is its token's, which has no rights to read again.
	who := auth.Claims{Issuer: b.Actor.Issuer, Subject: b.Actor.Subject, Role: b.Actor.Role, Campaigns: b.Actor.Campaigns, Asserted: true}
	if !b.Actor.Asserted {
		var err error
		if who, err = s.AgentSession(ctx, auth.Claims{Issuer: b.Actor.Issuer, Subject: b.Actor.Subject}); err != nil {
			return nil, err
		}
	}
	results, err := s.ApproveMatches(ctx, who, b.Campaign, b.IDs, b.Outcome)
	if err != nil {
		return nil, err
	}
	out := make([]campaign.BulkItem, len(results))
	for i, r := range results {
		out[i] = campaign.BulkItem{ID: r.ID, Status: string(r.Status), Error: r.Error}
	}
	return out, nil
}

// SettingsChange is a campaign's settings as its administrator sets them.
type SettingsChange struct {
	BackOfficeApproval   bool
	AnswerWindowHours    int
	RetentionDays        int
	MatchingEveryMinutes int // 0: on demand only
	LinkReminderDays     []int
}

// validateSettings checks a change, the same bounds as at creation.
func validateSettings(c SettingsChange) error {
	var fe errs.Fields
	if c.AnswerWindowHours < 1 || c.AnswerWindowHours > 720 {
		fe.Add("answer_window_hours", "entre 1 et 720 heures")
	}
	if c.RetentionDays < 1 || c.RetentionDays > 365 {
		fe.Add("retention_days", "entre 1 et 365 jours")
	}
	if c.MatchingEveryMinutes < 0 || c.MatchingEveryMinutes > 10080 {
		fe.Add("matching_every_minutes", "entre 0 (à la demande) et 10080 minutes")
	}
	if len(c.LinkReminderDays) > 5 {
		fe.Add("link_reminder_days", "5 relances au plus")
	}
	for _, d := range c.LinkReminderDays {
		if d < 1 || d > 60 {
			fe.Add("link_reminder_days", "chaque relance entre 1 et 60 jours")
			break
		}
	}
	return fe.Err()
}

// UpdateCampaignSettings changes a campaign's settings (its administrator
// or support). The matching schedule follows at once: zero removes it
// (runs on demand only), another period creates or changes it; the
// lifetime workflow restarts with the new retention. The answer window and
// the reminders apply to the matches proposed from now on.
func (s *Service) UpdateCampaignSettings(ctx context.Context, who auth.Claims, id string, c SettingsChange) (store.Campaign, error) {
	old, err := s.requireCampaignAdmin(ctx, who, id)
	if err != nil {
		return old, err
	}
	if err := validateSettings(c); err != nil {
		return old, err
	}
	reminders := make([]int32, len(c.LinkReminderDays))
	for i, d := range c.LinkReminderDays {
		reminders[i] = int32(d)
	}
	slices.Sort(reminders)
	reminders = slices.Compact(reminders)
	change := store.CampaignChange{BackOfficeApproval: c.BackOfficeApproval, AnswerWindow: time.Duration(c.AnswerWindowHours) * time.Hour,
		Retention: time.Duration(c.RetentionDays) * 24 * time.Hour, MatchingEvery: time.Duration(c.MatchingEveryMinutes) * time.Minute,
		LinkReminderDays: reminders}
	if err := s.Store.UpdateCampaignSettings(ctx, id, change, store.Audit{ActorSub: who.Identity(), ActorRole: who.Role,
		Action: "campaign.settings", Details: map[string]any{"campaign": id, "answer_window_hours": c.AnswerWindowHours,
			"retention_days": c.RetentionDays, "matching_every_minutes": c.MatchingEveryMinutes, "link_reminder_days": reminders,
			"back_office_approval": c.BackOfficeApproval}}); err != nil {
		return old, s.notFoundOr(ctx, err, errNoCampaign)
	}
	fresh, err := s.Store.Campaign(ctx, id)
	if err != nil {
		return old, s.infra(ctx, err)
	}
	election, err := s.Store.Election(ctx, fresh.ElectionID)
	if err != nil {
		return fresh, s.infra(ctx, err)
	}
	life := s.life(fresh, election)
	if err := s.reschedule(ctx, fresh, life.ElectionEnd); err != nil {
		return fresh, s.infra(ctx, err)
	}
	if fresh.Retention != old.Retention {
		// The new run's notices skip the requesters told already.
		if _, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: campaign.LifeWorkflowID(id), TaskQueue: s.TaskQueue,
			WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING,
			StaticSummary:            fmt.Sprintf("Campagne %s (%s)", id, fresh.ElectionID),
		}, campaign.LifeWorkflowName, life); err != nil {
			return fresh, s.infra(ctx, err)
		}
	}
	return fresh, nil
}

// reschedule makes the campaign's matching schedule match its period.
func (s *Service) reschedule(ctx context.Context, c store.Campaign, electionEnd time.Time) error {
	handle := s.Temporal.ScheduleClient().GetHandle(ctx, campaign.ScheduleID(c.ID))
	err := handle.Delete(ctx)
	var notFound *serviceerror.NotFound
	if err != nil && !errors.As(err, &notFound) {
		return err
	}
	if c.MatchingEvery <= 0 || !electionEnd.After(s.Now()) {
		return nil
	}
	_, err = s.Temporal.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:      campaign.ScheduleID(c.ID),
		Spec:    client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: c.MatchingEvery}}, EndAt: electionEnd},
		Overlap: enums.SCHEDULE_OVERLAP_POLICY_SKIP,
		Action: &client.ScheduleWorkflowAction{ID: campaign.RunWorkflowID(c.ID), Workflow: campaign.RunWorkflowName, Args: []any{c.ID},
			TaskQueue: s.TaskQueue},
	})
	return err
}

// CampaignTeam lists the back office rights of a campaign.
func (s *Service) CampaignTeam(ctx context.Context, who auth.Claims, id string) ([]store.Right, error) {
	if _, err := s.campaignAgent(ctx, who, id); err != nil {
		return nil, err
	}
	rights, err := s.Store.Rights(ctx, store.RightFilter{Role: auth.RoleBackOffice, Campaigns: []string{id}})
	return rights, s.infra(ctx, err)
}
