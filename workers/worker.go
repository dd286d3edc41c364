// Package workers assembles the Temporal worker the binary runs: one
// registration per workflow family, on one task queue.
package workers

import (
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/procurations/procuration/activities"
	"github.com/procurations/procuration/internal/dossier"
)

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
}

// New is the worker of every workflow of the system.
func New(c client.Client, taskQueue string, d Deps) worker.Worker {
	w := worker.New(c, taskQueue, d.Options)
	w.RegisterActivity(d.Outbox)
	registerProcurations(w, d)
	registerMatching(w, d)
	return w
}
