package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/procurations/procuration/internal/campaign"
)

func TestCampaignStopsRunsThenDeletesPersonalData(t *testing.T) {
	env := newEnv()
	env.SetStartTime(t0)
	registerActivities(env)
	var closedAt, purgedAt time.Duration
	env.OnActivity(campaign.ActivityClose, mock.Anything, "planprocu").Return(func(context.Context, string) error {
		closedAt = env.Now().Sub(t0)
		return nil
	})
	env.OnActivity(campaign.ActivityPurge, mock.Anything, "planprocu").Return(func(context.Context, string) (int, error) {
		purgedAt = env.Now().Sub(t0)
		return 42, nil
	})
	env.ExecuteWorkflow(Campaign, campaign.Life{Campaign: "planprocu", ElectionEnd: t0.Add(40 * day), Retention: 30 * day})
	require.NoError(t, env.GetWorkflowError())
	var purged int
	require.NoError(t, env.GetWorkflowResult(&purged))
	require.Equal(t, 42, purged)
	require.Equal(t, 40*day, closedAt, "scheduled runs stop with the election")
	require.Equal(t, 70*day, purgedAt, "personal data deleted after the retention period")
}

func TestMatchingRunReportsWhatItProposed(t *testing.T) {
	env := newEnv()
	registerActivities(env)
	env.OnActivity(campaign.ActivityRunMatching, mock.Anything, "planprocu").Return(7, nil)
	env.ExecuteWorkflow(MatchingRun, "planprocu")
	require.NoError(t, env.GetWorkflowError())
	var n int
	require.NoError(t, env.GetWorkflowResult(&n))
	require.Equal(t, 7, n)
}

func TestMatchingOffersStartsEveryProposalAndGathersRematches(t *testing.T) {
	env := newEnv()
	env.SetStartTime(t0)
	registerActivities(env)
	left, calls := 1200, 0
	var runs []time.Duration
	env.OnActivity(campaign.ActivityStartOffers, mock.Anything, "planprocu").After(5 * time.Second).
		Return(func(context.Context, string) (campaign.OffersBatch, error) {
			calls++
			n := min(500, left)
			left -= n
			return campaign.OffersBatch{Started: n, Left: left}, nil
		})
	env.OnActivity(campaign.ActivityRunMatching, mock.Anything, "planprocu").Return(func(context.Context, string) (int, error) {
		runs = append(runs, env.Now().Sub(t0))
		left += 3
		return 3, nil
	})
	signal := func(at time.Duration, m campaign.More) {
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(campaign.SignalMore, m) }, at)
	}
	signal(0, campaign.More{Proposed: 1200})
	// Two dossiers fail while the first batches start: one run for both.
	signal(7*time.Second, campaign.More{Rematch: true})
	signal(9*time.Second, campaign.More{Rematch: true})
	env.ExecuteWorkflow(MatchingOffers, campaign.Offers{Campaign: "planprocu", RematchDelay: time.Minute})
	require.NoError(t, env.GetWorkflowError())
	var p campaign.OffersProgress
	require.NoError(t, env.GetWorkflowResult(&p))
	require.Equal(t, campaign.OffersProgress{Proposed: 1200, Started: 1203, Left: 0, Rematches: 1}, p)
	require.Len(t, runs, 1, "the requesters back at the same moment are matched in one run")
	require.GreaterOrEqual(t, runs[0], 9*time.Second+time.Minute-5*time.Second, "after the delay that gathers them")
	require.Less(t, runs[0], 2*time.Minute, "within minutes")
	require.Equal(t, 4, calls, "three batches, then the rematch's")
}

func TestMatchingOffersWaitsForALeaseHeldElsewhere(t *testing.T) {
	env := newEnv()
	env.SetStartTime(t0)
	registerActivities(env)
	var at []time.Duration
	env.OnActivity(campaign.ActivityStartOffers, mock.Anything, "planprocu").
		Return(func(context.Context, string) (campaign.OffersBatch, error) {
			at = append(at, env.Now().Sub(t0))
			if len(at) == 1 {
				return campaign.OffersBatch{Left: 40}, nil // another worker's, under its lease
			}
			return campaign.OffersBatch{}, nil
		})
	env.ExecuteWorkflow(MatchingOffers, campaign.Offers{Campaign: "planprocu"})
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, []time.Duration{0, time.Minute}, at, "no busy loop while another worker starts them")
}

// notices runs a campaign's lifetime from start with the given rounds and
// records when each round's notice ran; the details seen at each are kept.
type notices struct {
	env     *testsuite.TestWorkflowEnvironment
	calls   []campaign.Notice
	at      []time.Time
	details []string
	purged  bool
}

func runNotices(t *testing.T, start time.Time, in campaign.Life, fail error) *notices {
	t.Helper()
	n := &notices{env: newEnv()}
	env := n.env
	env.SetStartTime(start)
	registerActivities(env)
	env.OnActivity(campaign.ActivityNotifyUnmatched, mock.Anything, mock.Anything).Return(
		func(_ context.Context, x campaign.Notice) (campaign.NoticeReport, error) {
			n.calls = append(n.calls, x)
			n.at = append(n.at, env.Now().UTC())
			if fail != nil {
				return campaign.NoticeReport{}, fail
			}
			return campaign.NoticeReport{Told: 12, Refused: 1}, nil
		})
	env.OnActivity(campaign.ActivityClose, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(campaign.ActivityPurge, mock.Anything, mock.Anything).Return(func(context.Context, string) (int, error) {
		n.purged = true
		return 3, nil
	})
	// What support staff read, a day after the start and a day before the end.
	for _, at := range []time.Duration{day, in.ElectionEnd.Sub(start) - day} {
		env.RegisterDelayedCallback(func() { n.details = append(n.details, currentDetails(t, env)) }, at)
	}
	env.ExecuteWorkflow(Campaign, in)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	return n
}

func currentDetails(t *testing.T, env *testsuite.TestWorkflowEnvironment) string {
	t.Helper()
	v, err := env.QueryWorkflow("__temporal_workflow_metadata")
	require.NoError(t, err)
	var m sdkpb.WorkflowMetadata
	require.NoError(t, v.Get(&m))
	return m.GetCurrentDetails()
}

// The demo election: rounds on Sunday 11 and 25 April 2027; their days
// begin at 22:00 UTC the day before (Paris, summer time).
var demoRounds = []campaign.Round{{Number: 1, Date: "2027-04-11"}, {Number: 2, Date: "2027-04-25"}}

func demoLife(rounds []campaign.Round) campaign.Life {
	return campaign.Life{Campaign: "planprocu", ElectionEnd: time.Date(2027, 4, 25, 22, 0, 0, 0, time.UTC), Retention: 30 * day,
		Rounds: rounds, UnmatchedNotice: campaign.DefaultUnmatchedNotice}
}

func TestCampaignTellsUnmatchedRequestersTenDaysBeforeEachRound(t *testing.T) {
	n := runNotices(t, t0, demoLife(demoRounds), nil)
	require.Equal(t, []campaign.Notice{{Campaign: "planprocu", Round: 1, Date: "2027-04-11"}, {Campaign: "planprocu", Round: 2, Date: "2027-04-25"}},
		n.calls)
	require.Equal(t, []time.Time{time.Date(2027, 3, 31, 22, 0, 0, 0, time.UTC), time.Date(2027, 4, 14, 22, 0, 0, 0, time.UTC)}, n.at,
		"at the start of the day, Paris time, ten days before each round")
	require.True(t, n.purged, "the lifetime goes on to the deletion of the data")
	require.Contains(t, n.details[0], "**Demandeurs sans volontaire** : 1er tour du 11 avril 2027 : à prévenir le jeudi 1er avril 2027 à 0 h 00 ; "+
		"2d tour du 25 avril 2027 : à prévenir le jeudi 15 avril 2027 à 0 h 00.")
	require.Contains(t, n.details[1], "1er tour du 11 avril 2027 : 12 prévenus le jeudi 1er avril 2027 à 0 h 00 (1 adresse refusée")
	require.Contains(t, n.details[1], "2d tour du 25 avril 2027 : 12 prévenus le jeudi 15 avril 2027 à 0 h 00")
}

func TestNoNoticeForARoundAlreadyPast(t *testing.T) {
	// Started the day after the first round: only the second's notice.
	n := runNotices(t, time.Date(2027, 4, 12, 8, 0, 0, 0, time.UTC), demoLife(demoRounds), nil)
	require.Equal(t, []int{2}, rounds(n.calls))
	require.Equal(t, []time.Time{time.Date(2027, 4, 14, 22, 0, 0, 0, time.UTC)}, n.at)
	require.NotContains(t, n.details[0], "1er tour")
}

func TestALateNoticeGoesAtOnceWhileItsRoundIsAhead(t *testing.T) {
	// Restarted five days before the first round (new retention).
	start := time.Date(2027, 4, 6, 8, 0, 0, 0, time.UTC)
	n := runNotices(t, start, demoLife(demoRounds), nil)
	require.Equal(t, []int{1, 2}, rounds(n.calls))
	require.Equal(t, []time.Time{start, time.Date(2027, 4, 14, 22, 0, 0, 0, time.UTC)}, n.at)
}

func TestNoNoticeForACampaignStartedWithoutRounds(t *testing.T) {
	// A workflow started before the notices existed: its input has none.
	n := runNotices(t, t0, demoLife(nil), nil)
	require.Empty(t, n.calls)
	require.True(t, n.purged)
	require.NotContains(t, n.details[0], "Demandeurs")
}

func TestAFailedNoticeDoesNotStopTheLifetime(t *testing.T) {
	n := runNotices(t, t0, demoLife(demoRounds[:1]), temporal.NewNonRetryableApplicationError("template", "Permanent", nil))
	require.Equal(t, []int{1}, rounds(n.calls))
	require.True(t, n.purged, "personal data deleted all the same")
	require.Contains(t, n.details[1], "1er tour du 11 avril 2027 : envoi inachevé")
}

func rounds(calls []campaign.Notice) []int {
	var out []int
	for _, c := range calls {
		out = append(out, c.Round)
	}
	return out
}
