package workers

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/procurations/procuration/internal/campaign"
	"github.com/procurations/procuration/internal/match"
	"github.com/procurations/procuration/internal/signup"
	"github.com/procurations/procuration/workflows"
)

// matchingWorkflows is the matching platforms: sign-up confirmations,
// matches, campaigns' lifetimes, runs and offers, bulk approvals.
func matchingWorkflows(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(workflows.Signup, workflow.RegisterOptions{Name: signup.WorkflowName})
	r.RegisterWorkflowWithOptions(workflows.SignupConfirmations, workflow.RegisterOptions{Name: signup.SenderWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.Match, workflow.RegisterOptions{Name: match.WorkflowName})
	r.RegisterWorkflowWithOptions(workflows.Campaign, workflow.RegisterOptions{Name: campaign.LifeWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.MatchingRun, workflow.RegisterOptions{Name: campaign.RunWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.MatchingOffers, workflow.RegisterOptions{Name: campaign.OffersWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.BulkApproval, workflow.RegisterOptions{Name: campaign.BulkWorkflowName})
}

func matchingActivities(r worker.ActivityRegistry, d Deps) {
	r.RegisterActivity(d.Signups)
	r.RegisterActivity(d.Matches)
	r.RegisterActivity(d.Campaigns)
	if d.Bulk != nil {
		r.RegisterActivity(d.Bulk)
	}
}
