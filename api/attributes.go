package api

import (
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/procurations/procuration/internal/dossier"
)

// searchAttributes are set at start so that a dossier is findable in the
// Web UI before its first workflow task runs.
func searchAttributes(commune string, validUntil time.Time) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		dossier.StatusAttribute.ValueSet(string(dossier.AwaitingPolice)),
		dossier.CommuneAttribute.ValueSet(commune),
		dossier.ValidUntilAttribute.ValueSet(validUntil),
	)
}
