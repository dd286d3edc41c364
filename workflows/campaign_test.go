package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/procurations/procuration/internal/campaign"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
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
