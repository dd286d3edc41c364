package workers

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/procurations/procuration/internal/campaign"
	"github.com/procurations/procuration/internal/match"
	"github.com/procurations/procuration/internal/signup"
	"github.com/procurations/procuration/workflows"
)

// registerMatching is the matching platforms: sign-up confirmations, matches,
// campaigns' lifetimes and scheduled runs.
func registerMatching(w worker.Registry, d Deps) {
	w.RegisterWorkflowWithOptions(workflows.Signup, workflow.RegisterOptions{Name: signup.WorkflowName})
	w.RegisterWorkflowWithOptions(workflows.SignupConfirmations, workflow.RegisterOptions{Name: signup.SenderWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.Match, workflow.RegisterOptions{Name: match.WorkflowName})
	w.RegisterWorkflowWithOptions(workflows.Campaign, workflow.RegisterOptions{Name: campaign.LifeWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.MatchingRun, workflow.RegisterOptions{Name: campaign.RunWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.MatchingOffers, workflow.RegisterOptions{Name: campaign.OffersWorkflowName})
	w.RegisterActivity(d.Signups)
	w.RegisterActivity(d.Matches)
	w.RegisterActivity(d.Campaigns)
	w.RegisterWorkflowWithOptions(workflows.BulkApproval, workflow.RegisterOptions{Name: campaign.BulkWorkflowName})
	if d.Bulk != nil {
		w.RegisterActivity(d.Bulk)
	}
}
