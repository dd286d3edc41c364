package api

import (
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/workflows"
)

// searchAttributes are set at start so that a dossier is findable in the
// Web UI before its first workflow task runs.
func searchAttributes(commune string, validUntil time.Time) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		workflows.StatusAttribute.ValueSet(string(dossier.AwaitingPolice)),
		workflows.CommuneAttribute.ValueSet(commune),
		workflows.ValidUntilAttribute.ValueSet(validUntil),
	)
}
