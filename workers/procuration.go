package workers

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/workflows"
)

// registerProcurations is the official three-step flow.
func registerProcurations(w worker.Registry, d Deps) {
	w.RegisterWorkflowWithOptions((&workflows.Procurations{Policy: d.Policy}).Procuration, workflow.RegisterOptions{Name: dossier.WorkflowName})
	w.RegisterActivity(d.Procurations)
}
