package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/procurations/procuration/internal/campaign"
	"github.com/procurations/procuration/internal/match"
	"github.com/procurations/procuration/internal/outbox"
)

type matchHarness struct {
	t       *testing.T
	env     *testsuite.TestWorkflowEnvironment
	in      match.Start
	steps   []match.Step
	mails   []match.Mail
	mailAt  []time.Duration
	dossier []string // successive answers of DossierStatus
	rematch []string // campaigns asked to match again
}

func newMatchHarness(t *testing.T) *matchHarness {
	env := newEnv()
	env.SetStartTime(t0)
	h := &matchHarness{t: t, env: env, in: match.Start{
		MatchID: "m-1", Campaign: "planprocu", Rounds: []int{1, 2},
		FirstRound: t0.Add(30 * day), ElectionEnd: t0.Add(45 * day), Settings: match.DefaultSettings(),
	}}
	registerActivities(env)
	env.OnActivity(match.ActivityRecordStep, mock.Anything, mock.Anything).Return(func(_ context.Context, s match.Step) error {
		h.steps = append(h.steps, s)
		return nil
	})
	env.OnActivity(match.ActivitySendMail, mock.Anything, mock.Anything).Return(func(_ context.Context, m match.Mail) (outbox.Receipt, error) {
		h.mails = append(h.mails, m)
		h.mailAt = append(h.mailAt, env.Now().Sub(t0))
		return outbox.Receipt{}, nil
	})
	env.OnActivity(campaign.ActivityRequestRematch, mock.Anything, mock.Anything).Return(func(_ context.Context, id string) error {
		h.rematch = append(h.rematch, id)
		return nil
	})
	env.OnActivity(match.ActivityDossierStatus, mock.Anything, mock.Anything).Return(func(context.Context, string) (string, error) {
		if len(h.dossier) == 0 {
			return "", nil
		}
		s := h.dossier[0]
		if len(h.dossier) > 1 {
			h.dossier = h.dossier[1:]
		}
		return s, nil
	})
	return h
}

func (h *matchHarness) at(d time.Duration, update string, arg any, wantErr string) {
	updateAt(h.t, h.env, d, update, arg, wantErr)
}

func (h *matchHarness) run() match.Status {
	h.env.ExecuteWorkflow(Match, h.in)
	require.True(h.t, h.env.IsWorkflowCompleted())
	require.NoError(h.t, h.env.GetWorkflowError())
	var s match.Status
	require.NoError(h.t, h.env.GetWorkflowResult(&s))
	return s
}

func (h *matchHarness) sent() []string {
	var out []string
	for _, m := range h.mails {
		out = append(out, string(m.Kind)+":"+m.Party)
	}
	return out
}

var (
	requesterAccepts  = match.Answer{Actor: match.Actor{Sub: "r-1", Role: "requester"}, Party: match.Requester, Outcome: "accepted"}
	volunteerAccepts  = match.Answer{Actor: match.Actor{Sub: "v-1", Role: "volunteer"}, Party: match.Volunteer, Outcome: "accepted"}
	volunteerDeclines = match.Answer{Actor: match.Actor{Sub: "v-1", Role: "volunteer"}, Party: match.Volunteer, Outcome: "declined"}
	linkDossier       = match.Link{Actor: match.Actor{Sub: "r-1", Role: "requester"}, Reference: "K7M2QX"}
)

func TestMatchAcceptedLinkedCompleted(t *testing.T) {
	h := newMatchHarness(t)
	h.dossier = []string{"awaiting_police", "awaiting_town_hall", "validated"}
	h.at(time.Hour, match.UpdateAnswer, requesterAccepts, "")
	h.at(2*time.Hour, match.UpdateAnswer, requesterAccepts, "awaiting_answer")
	h.at(3*time.Hour, match.UpdateAnswer, volunteerAccepts, "")
	h.at(4*time.Hour, match.UpdateLink, match.Link{Reference: "not-a-ref"}, "reference")
	h.at(day, match.UpdateLink, linkDossier, "")
	require.Equal(t, match.Completed, h.run())
	require.Equal(t, []string{"match_offer:requester", "match_offer:volunteer", "match_contacts:requester", "match_contacts:volunteer",
		"match_completed:requester", "match_completed:volunteer"}, h.sent(), "both answered before half-time: no reminder")
	require.Equal(t, 3*time.Hour, h.mailAt[2], "contacts disclosed once both accepted")
	// The dossier is read at once, then every 6 hours: validated at the third read.
	require.Equal(t, day+12*time.Hour, h.steps[len(h.steps)-1].At.Sub(t0))
	require.Equal(t, "K7M2QX", h.steps[len(h.steps)-2].Reference)
}

func TestMatchLearnsOfItsDossierBySignal(t *testing.T) {
	h := newMatchHarness(t)
	h.dossier = []string{"awaiting_police", "validated"}
	h.at(time.Hour, match.UpdateAnswer, requesterAccepts, "")
	h.at(2*time.Hour, match.UpdateAnswer, volunteerAccepts, "")
	h.at(day, match.UpdateLink, linkDossier, "")
	// The town hall validates 10 minutes after the link: the dossier's side
	// signals, and the match reads it then, not at its next poll 6 hours on.
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(match.SignalDossierChanged, "validated")
	}, day+10*time.Minute)
	require.Equal(t, match.Completed, h.run())
	require.Equal(t, day+10*time.Minute, h.steps[len(h.steps)-1].At.Sub(t0))
}

func TestMatchDeclineFreesTheOther(t *testing.T) {
	h := newMatchHarness(t)
	h.at(time.Hour, match.UpdateAnswer, volunteerDeclines, "")
	require.Equal(t, match.Declined, h.run())
	last := h.steps[len(h.steps)-1]
	require.True(t, last.DeclinedPair)
	require.Equal(t, []string{"match_offer:requester", "match_offer:volunteer", "match_ended:requester"}, h.sent())
}

func TestMatchDeadline(t *testing.T) {
	h := newMatchHarness(t)
	h.at(time.Hour, match.UpdateAnswer, requesterAccepts, "")
	require.Equal(t, match.Expired, h.run())
	last := h.steps[len(h.steps)-1]
	require.Equal(t, []string{match.Volunteer}, last.Withdraw, "the one who did not answer leaves the pool")
	require.True(t, last.DeclinedPair)
	require.Equal(t, 48*time.Hour, last.At.Sub(t0))
	// The reminder at half-time goes only to who has not answered.
	require.Equal(t, "match_answer_reminder", string(h.mails[2].Kind))
	require.Equal(t, match.Volunteer, h.mails[2].Party)
	require.Equal(t, 24*time.Hour, h.mailAt[2])
}

func TestMatchDeadlineEndsThreeDaysBeforeTheRound(t *testing.T) {
	h := newMatchHarness(t)
	h.in.FirstRound = t0.Add(4 * day)
	require.Equal(t, match.Expired, h.run())
	require.Equal(t, 24*time.Hour, h.steps[len(h.steps)-1].At.Sub(t0), "deadline brought forward to round - 3 days")
	require.Equal(t, 12*time.Hour, h.mailAt[2], "reminder at half-time of the shortened window")
}

func TestMatchApprovalRejected(t *testing.T) {
	h := newMatchHarness(t)
	h.in.Settings.RequireApproval = true
	h.at(time.Hour, match.UpdateAnswer, requesterAccepts, "proposed")
	h.at(2*time.Hour, match.UpdateApproval, match.Approval{Outcome: "rejected"}, "")
	require.Equal(t, match.Rejected, h.run())
	require.Equal(t, []string{"match_ended:requester", "match_ended:volunteer"}, h.sent(), "no offer went out")
}

func TestMatchApprovedThenOffered(t *testing.T) {
	h := newMatchHarness(t)
	h.in.Settings.RequireApproval = true
	h.at(day, match.UpdateApproval, match.Approval{Outcome: "approved"}, "")
	h.at(day+time.Hour, match.UpdateAnswer, volunteerDeclines, "")
	require.Equal(t, match.Declined, h.run())
	require.Equal(t, day, h.mailAt[0], "offer sent on approval")
}

func TestMatchDossierInvalidatedPutsRequesterFirstInLine(t *testing.T) {
	h := newMatchHarness(t)
	h.dossier = []string{"awaiting_town_hall", "invalidated"}
	h.at(time.Hour, match.UpdateAnswer, requesterAccepts, "")
	h.at(2*time.Hour, match.UpdateAnswer, volunteerAccepts, "")
	h.at(3*time.Hour, match.UpdateLink, linkDossier, "")
	require.Equal(t, match.Cancelled, h.run())
	last := h.steps[len(h.steps)-1]
	require.True(t, last.FirstInLine)
	require.Contains(t, last.EndReason, "invalidated")
	require.Equal(t, []string{"match_ended:requester", "match_ended:volunteer"}, h.sent()[len(h.sent())-2:])
	require.Equal(t, []string{"planprocu"}, h.rematch, "the campaign matches again at once")
}

func TestMatchLinkRemindersThenElectionEnd(t *testing.T) {
	h := newMatchHarness(t)
	h.at(time.Hour, match.UpdateAnswer, requesterAccepts, "")
	h.at(2*time.Hour, match.UpdateAnswer, volunteerAccepts, "")
	require.Equal(t, match.Cancelled, h.run())
	var reminders []time.Duration
	for i, m := range h.mails {
		if m.Kind == match.MailLinkReminder {
			reminders = append(reminders, h.mailAt[i]-2*time.Hour)
		}
	}
	// 2 and 5 days after acceptance, and 3 days before the first round.
	require.Equal(t, []time.Duration{2 * day, 5 * day, 27*day - 2*time.Hour}, reminders)
	require.Equal(t, 45*day, h.steps[len(h.steps)-1].At.Sub(t0), "ends with the election")
}
