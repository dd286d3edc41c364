package workflows

import (
	"testing"

	"github.com/procurations/procuration/internal/dossier"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// A dossier started before its database steps became local activities
// (version 1 of "local-steps") must replay with today's code: the version
// guard keeps it on regular activities. The history is a real one, exported
// from a dev server with `temporal workflow show -o json`.
func TestReplayDossierStartedBeforeLocalSteps(t *testing.T) {
	replayer := worker.NewWorkflowReplayer()
	replayer.RegisterWorkflowWithOptions((&Procurations{Policy: dossier.DefaultPolicy()}).Procuration, workflow.RegisterOptions{Name: dossier.WorkflowName})
	if err := replayer.ReplayWorkflowHistoryFromJSONFile(nil, "testdata/procuration-before-local-steps.json"); err != nil {
		t.Fatal(err)
	}
}
