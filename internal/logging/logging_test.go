package logging

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// An activity's lines carry its workflow's id: the SDK tags its logger,
// and the adapter turns the tags into zap fields.
func TestActivityLinesCarryTheWorkflowID(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(Temporal(zap.New(core)))
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivityWithOptions(func(ctx context.Context) error {
		activity.GetLogger(ctx).Info("email sent", "key", "procuration/N3AX5S/submitted")
		return nil
	}, activity.RegisterOptions{Name: "SendMail"})
	_, err := env.ExecuteActivity("SendMail")
	require.NoError(t, err)
	lines := logs.FilterMessage("email sent").All()
	require.Len(t, lines, 1)
	fields := lines[0].ContextMap()
	require.NotEmpty(t, fields["WorkflowID"])
	require.Equal(t, "SendMail", fields["ActivityType"])
	require.Equal(t, "procuration/N3AX5S/submitted", fields["key"])
}

func TestRequestIDField(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	log := zap.New(core)
	Ctx(context.Background(), log).Info("no request")
	Ctx(WithRequestID(context.Background(), "0123456789abcdef"), log).Info("in a request")
	require.NotContains(t, logs.FilterMessage("no request").All()[0].ContextMap(), "request_id")
	require.Equal(t, "0123456789abcdef", logs.FilterMessage("in a request").All()[0].ContextMap()["request_id"])
}
