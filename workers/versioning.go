package workers

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/procurations/procuration/internal/config"
)

// DeploymentOptions make the worker one version of the Worker Deployment,
// the release its build ID names.
//
// Every workflow is auto-upgrade: at the release's promotion its next task
// runs on the new code. Pinned would keep each dossier on the release that
// opened it, so every release's workers would have to run for the months a
// procuration or a match lives, and a rolling update that removes the old
// ones would strand them. Auto-upgrade instead asks every change of a
// workflow's commands to go behind workflow.GetVersion, which the replay
// test over the previous release's histories enforces (workflows/replay).
// What versioning adds to patches alone: once a version is current, no task
// goes back to an older worker still running, which would not know the
// markers the new code recorded.
func DeploymentOptions(v config.Versioning) worker.DeploymentOptions {
	if !v.Enabled {
		return worker.DeploymentOptions{}
	}
	return worker.DeploymentOptions{
		UseVersioning:             true,
		Version:                   worker.WorkerDeploymentVersion{DeploymentName: v.Deployment, BuildID: v.BuildID},
		DefaultVersioningBehavior: workflow.VersioningBehaviorAutoUpgrade,
	}
}

// promotion is how long a starting worker waits for its version to appear
// on the server (at its first poll) and become current.
const promotion = 30 * time.Second

// Promote makes the worker's version the deployment's current one as
// v.Promote says: initial when the deployment has none (a new cluster, the
// tests, `make run` on a fresh dev server), always, or never. It reports
// whether it changed the current version.
func Promote(ctx context.Context, c client.Client, v config.Versioning) (bool, error) {
	if !v.Enabled || v.Promote == "never" {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, promotion)
	defer cancel()
	h := c.WorkerDeploymentClient().GetHandle(v.Deployment)
	var last error
	for {
		// The deployment and the version exist once a poll of this worker
		// reached the server; until then both calls fail and are retried.
		d, err := h.Describe(ctx, client.WorkerDeploymentDescribeOptions{})
		if err == nil {
			current := d.Info.RoutingConfig.CurrentVersion
			if current != nil && (current.BuildID == v.BuildID || v.Promote == "initial") {
				return false, nil
			}
			_, err = h.SetCurrentVersion(ctx, client.WorkerDeploymentSetCurrentVersionOptions{BuildID: v.BuildID, ConflictToken: d.ConflictToken})
			if err == nil {
				return true, nil
			}
		}
		last = err
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("making %s %s the current version of the Worker Deployment: %w", v.Deployment, v.BuildID, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// promoting is a worker that promotes its version once started, so that
// the workflows started next are dispatched to it.
type promoting struct {
	worker.Worker
	client     client.Client
	versioning config.Versioning
	log        *zap.Logger
}

func (p *promoting) promote() error {
	changed, err := Promote(context.Background(), p.client, p.versioning)
	if err == nil && changed && p.log != nil {
		p.log.Info("worker version made current", zap.String("deployment", p.versioning.Deployment),
			zap.String("build_id", p.versioning.BuildID))
	}
	return err
}

// Start returns once the version is current (or left as it was).
func (p *promoting) Start() error {
	if err := p.Worker.Start(); err != nil {
		return err
	}
	if err := p.promote(); err != nil {
		p.Worker.Stop()
		return err
	}
	return nil
}

// Run promotes beside polling. A promotion that fails (the server away
// for longer than its retries) leaves the worker polling: it serves its
// version still, and the release can promote it with the CLI; stopping it
// would only have the supervisor start it again.
func (p *promoting) Run(stop <-chan any) error {
	go func() {
		if err := p.promote(); err != nil && p.log != nil {
			p.log.Error("worker version not made current", zap.String("deployment", p.versioning.Deployment),
				zap.String("build_id", p.versioning.BuildID), zap.Error(err))
		}
	}()
	return p.Worker.Run(stop)
}
