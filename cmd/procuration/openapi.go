package main

import (
	"encoding/json"
	"os"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/procurations/procuration/api"
	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/config"
)

// openapiCmd prints the API's OpenAPI document, for linters and client
// generators, without connecting to anything.
func openapiCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "openapi",
		Short: "Print the API's OpenAPI 3.1 document (JSON)",
	}
	cfg := configured(cmd, config.RoleAPI)
	cmd.RunE = func(*cobra.Command, []string) error {
		_, doc := api.New(api.Deps{Log: zap.NewNop(), Verifier: auth.NewVerifier(cfg.Audience, nil, nil), PublicURL: cfg.PublicURL})
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(doc.OpenAPI())
	}
	return cmd
}
