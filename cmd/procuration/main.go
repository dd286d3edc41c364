// Command procuration is the one binary of the system: each subcommand is a
// role (api, worker) or an operation (migrate, seed, token, register import,
// reconcile, bench). Each reads only the settings its role uses.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/procurations/procuration/cmd/procuration/app"
	"github.com/procurations/procuration/internal/config"
	"github.com/procurations/procuration/internal/logging"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := root().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "procuration:", err)
		os.Exit(1)
	}
}

func root() *cobra.Command {
	cmd := &cobra.Command{
		Use:           "procuration",
		Short:         "Voting proxies: the official three-step flow and the matching platforms, on Temporal, PostgreSQL and SMTP",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.AddCommand(apiCmd(), workerCmd(), migrateCmd(), tokenCmd(), registerCmd(), seedCmd(), reconcileCmd(), benchCmd(), settingsCmd(), openapiCmd())
	return cmd
}

// configured gives cmd the settings of roles, checked before it runs.
func configured(cmd *cobra.Command, roles ...string) *config.Config {
	cfg := &config.Config{}
	cfg.Register(cmd.Flags(), roles...)
	cmd.PreRunE = func(*cobra.Command, []string) error { return cfg.Finish() }
	return cfg
}

// open builds the logger and the connections a role needs.
func open(ctx context.Context, cfg *config.Config) (*app.App, error) {
	log, err := logging.New(cfg.LogLevel)
	if err != nil {
		return nil, err
	}
	a, err := app.Open(ctx, *cfg, log)
	if err != nil {
		log.Error("startup failed", zap.Error(err))
		return nil, err
	}
	return a, nil
}

// settingsCmd prints every setting with its role: the README's table.
func settingsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "settings",
		Short: "List every setting: variable, flag, default, what it expects, which role reads it (Markdown)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			var cfg config.Config
			cfg.Register(cmd.Flags(), config.RoleAll)
			fmt.Println("| variable | role | default | expects | what |")
			fmt.Println("|---|---|---|---|---|")
			for _, s := range cfg.Settings() {
				def := s.Default
				if def != "" {
					def = "`" + def + "`"
				}
				fmt.Printf("| `%s` | %s | %s | %s | %s |\n", s.Env, s.Roles, def, s.Expects, s.Help)
			}
			return nil
		},
	}
}
