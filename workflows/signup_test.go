package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/workflow"

	"github.com/procurations/procuration/internal/signup"
)

func TestConfirmationSenderRunsAPassThenStartsAfresh(t *testing.T) {
	env := newEnv()
	registerActivities(env)
	var runs []time.Duration
	env.OnActivity(signup.ActivitySendPending, mock.Anything, mock.Anything).Return(func(_ context.Context, run time.Duration) error {
		runs = append(runs, run)
		return nil
	})
	env.ExecuteWorkflow(SignupConfirmations)
	require.True(t, env.IsWorkflowCompleted())
	require.True(t, workflow.IsContinueAsNewError(env.GetWorkflowError()), "a fresh run keeps the history short: %v", env.GetWorkflowError())
	require.Equal(t, []time.Duration{senderRun}, runs)
}
