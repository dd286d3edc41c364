package workers

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/procurations/procuration/internal/config"
	"github.com/procurations/procuration/internal/testenv"
)

// waitsForNews stands for a dossier: it waits, then ends on a signal.
func waitsForNews(ctx workflow.Context) (string, error) {
	workflow.GetSignalChannel(ctx, "news").Receive(ctx, nil)
	return "done", nil
}

// A release on the dev server: the first worker makes its version current;
// a second release's workers start idle (initial) until it is promoted; a
// dossier started on the first moves to the second at its next task
// (auto-upgrade), and no task goes back to the first.
func TestReleasesAreWorkerDeploymentVersions(t *testing.T) {
	if testing.Short() && !testenv.Required() {
		t.Skip("integration test")
	}
	c, err := client.Dial(client.Options{HostPort: testenv.Temporal(t)})
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const queue = "versioning"
	start := func(v config.Versioning) worker.Worker {
		w := worker.New(c, queue, worker.Options{DeploymentOptions: DeploymentOptions(v)})
		w.RegisterWorkflowWithOptions(waitsForNews, workflow.RegisterOptions{Name: "WaitsForNews"})
		p := &promoting{Worker: w, client: c, versioning: v}
		require.NoError(t, p.Start())
		t.Cleanup(p.Stop)
		return p
	}
	current := func() string {
		d, err := c.WorkerDeploymentClient().GetHandle("procuration").Describe(ctx, client.WorkerDeploymentDescribeOptions{})
		var notYet *serviceerror.NotFound
		if errors.As(err, &notYet) {
			return "" // no worker polled yet
		}
		require.NoError(t, err)
		if v := d.Info.RoutingConfig.CurrentVersion; v != nil {
			return v.BuildID
		}
		return ""
	}
	versionOf := func(id string) (string, enums.VersioningBehavior) {
		d, err := c.DescribeWorkflowExecution(ctx, id, "")
		require.NoError(t, err)
		info := d.GetWorkflowExecutionInfo().GetVersioningInfo()
		return info.GetDeploymentVersion().GetBuildId(), info.GetBehavior()
	}

	// The worker command's way: Run promotes beside polling.
	r1 := config.Versioning{Enabled: true, Deployment: "procuration", BuildID: "r1", Promote: "initial"}
	w := worker.New(c, queue, worker.Options{DeploymentOptions: DeploymentOptions(r1)})
	w.RegisterWorkflowWithOptions(waitsForNews, workflow.RegisterOptions{Name: "WaitsForNews"})
	stop, ran := make(chan any), make(chan error, 1)
	go func() { ran <- (&promoting{Worker: w, client: c, versioning: r1}).Run(stop) }()
	defer func() { close(stop); require.NoError(t, <-ran) }()
	require.Eventually(t, func() bool { return current() == "r1" }, 30*time.Second, 100*time.Millisecond,
		"the first worker of a new deployment makes its version current")

	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "dossier-1", TaskQueue: queue}, "WaitsForNews")
	require.NoError(t, err)
	require.Eventually(t, func() bool { b, _ := versionOf("dossier-1"); return b == "r1" }, 10*time.Second, 100*time.Millisecond)
	_, behavior := versionOf("dossier-1")
	require.Equal(t, enums.VERSIONING_BEHAVIOR_AUTO_UPGRADE, behavior)

	r2 := config.Versioning{Enabled: true, Deployment: "procuration", BuildID: "r2", Promote: "initial"}
	start(r2)
	require.Equal(t, "r1", current(), "a release's workers wait for its promotion")

	r2.Promote = "always"
	changed, err := Promote(ctx, c, r2)
	require.NoError(t, err)
	require.True(t, changed)
	require.Equal(t, "r2", current())
	changed, err = Promote(ctx, c, r2)
	require.NoError(t, err)
	require.False(t, changed, "promoting the current version again changes nothing")
	start(r1) // a worker of the old release restarting during the rollout
	require.Equal(t, "r2", current(), "an old worker does not take the deployment back")

	require.NoError(t, c.SignalWorkflow(ctx, "dossier-1", "", "news", nil))
	var out string
	require.NoError(t, run.Get(ctx, &out))
	build, _ := versionOf("dossier-1")
	require.Equal(t, "r2", build, "the dossier's next task ran on the promoted release")

	never := config.Versioning{Enabled: true, Deployment: "procuration", BuildID: "r3", Promote: "never"}
	changed, err = Promote(ctx, c, never)
	require.NoError(t, err)
	require.False(t, changed)
	require.Equal(t, "r2", current())
}
