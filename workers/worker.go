// Package workers assembles the Temporal worker the binary runs: one
// registration per workflow family, on one task queue.
package workers

import (
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/procurations/procuration/activities"
	"github.com/procurations/procuration/internal/campaign"
	"github.com/procurations/procuration/internal/config"
	"github.com/procurations/procuration/internal/dossier"
)

// RegisterWorkflows registers every workflow of the system under its
// contract's name: the worker's registration, which the replay test of
// workflows/ repeats so that it covers whatever the worker runs.
func RegisterWorkflows(r worker.WorkflowRegistry, policy dossier.Policy) {
	procurationWorkflows(r, policy)
	matchingWorkflows(r)
}

// Deps is what the workflows and activities of every family need.
type Deps struct {
	Policy       dossier.Policy
	Outbox       *activities.Outbox
	Procurations *activities.Procurations
	Matches      *activities.Matches
	Signups      *activities.Signups
	Campaigns    *activities.Campaigns
	Bulk         *activities.Bulk
	Options      worker.Options
	// Versioning places the worker among the releases (DeploymentOptions).
	Versioning config.Versioning
	Log        *zap.Logger
}

// New is the worker of every workflow of the system: on taskQueue, and on
// the campaigns' runs queue beside it (campaign.RunsTaskQueue) with the
// SDK's default pollers, that queue being light.
func New(c client.Client, taskQueue string, d Deps) worker.Worker {
	opts := d.Options
	opts.DeploymentOptions = DeploymentOptions(d.Versioning)
	runsOpts := opts
	runsOpts.MaxConcurrentWorkflowTaskPollers, runsOpts.MaxConcurrentActivityTaskPollers = 0, 0
	var w worker.Worker = &withRuns{Worker: register(worker.New(c, taskQueue, opts), d),
		runs: register(worker.New(c, campaign.RunsTaskQueue(taskQueue), runsOpts), d)}
	if !opts.DeploymentOptions.UseVersioning {
		return w
	}
	return &promoting{Worker: w, client: c, versioning: d.Versioning, log: d.Log}
}

func register(w worker.Worker, d Deps) worker.Worker {
	RegisterWorkflows(w, d.Policy)
	w.RegisterActivity(d.Outbox)
	procurationActivities(w, d)
	matchingActivities(w, d)
	return w
}

// withRuns is the worker of the main queue that also starts and stops the
// runs queue's.
type withRuns struct {
	worker.Worker
	runs worker.Worker
}

func (w *withRuns) Start() error {
	if err := w.runs.Start(); err != nil {
		return err
	}
	if err := w.Worker.Start(); err != nil {
		w.runs.Stop()
		return err
	}
	return nil
}

func (w *withRuns) Run(stop <-chan any) error {
	if err := w.runs.Start(); err != nil {
		return err
	}
	defer w.runs.Stop()
	return w.Worker.Run(stop)
}

func (w *withRuns) Stop() {
	w.Worker.Stop()
	w.runs.Stop()
}
