// Package searchattrs lists every custom search attribute the workflows
// set, for a namespace to register.
package searchattrs

import (
	"go.temporal.io/sdk/temporal"

	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/internal/match"
)

// All are the keys, with zero values.
func All() temporal.SearchAttributes {
	return temporal.NewSearchAttributes(append(dossier.SearchAttributes(), match.SearchAttributes()...)...)
}
