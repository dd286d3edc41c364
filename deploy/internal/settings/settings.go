// Package settings lists the variables the binary reads, from
// internal/config itself, so the manifests are checked against the code.
package settings

import (
	"github.com/spf13/pflag"

	"github.com/procurations/procuration/internal/config"
)

// Names are every setting's variable, all roles together.
func Names() map[string]bool {
	var c config.Config
	c.Register(pflag.NewFlagSet("settings", pflag.ContinueOnError), config.RoleAll)
	names := map[string]bool{}
	for _, s := range c.Settings() {
		names[s.Env] = true
	}
	return names
}
