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
