// Package workers assembles the Temporal workers the binary runs.
package workers

import (
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/procurations/procuration/internal/campaign"
	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/internal/match"
	"github.com/procurations/procuration/internal/signup"

	"github.com/procurations/procuration/activities"
	"github.com/procurations/procuration/workflows"
)

// Procurations is the worker for the official three-step flow.
// It also runs the matching platforms' sign-up confirmations and matches.
func Procurations(c client.Client, taskQueue string, a *activities.Procurations, s *activities.Signups, m *activities.Matches,
	camp *activities.Campaigns) worker.Worker {
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.Procuration, workflow.RegisterOptions{Name: dossier.WorkflowName})
	w.RegisterWorkflowWithOptions(workflows.Signup, workflow.RegisterOptions{Name: signup.WorkflowName})
	w.RegisterActivity(a)
	w.RegisterWorkflowWithOptions(workflows.Match, workflow.RegisterOptions{Name: match.WorkflowName})
	w.RegisterActivity(s)
	w.RegisterActivity(m)
	w.RegisterWorkflowWithOptions(workflows.Campaign, workflow.RegisterOptions{Name: campaign.LifeWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.MatchingRun, workflow.RegisterOptions{Name: campaign.RunWorkflowName})
	w.RegisterActivity(camp)
	return w
}
