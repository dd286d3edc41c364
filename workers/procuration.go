package workers

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/workflows"
)

// procurationWorkflows is the official three-step flow.
func procurationWorkflows(r worker.WorkflowRegistry, policy dossier.Policy) {
	r.RegisterWorkflowWithOptions((&workflows.Procurations{Policy: policy}).Procuration, workflow.RegisterOptions{Name: dossier.WorkflowName})
}

func procurationActivities(r worker.ActivityRegistry, d Deps) {
	r.RegisterActivity(d.Procurations)
}
