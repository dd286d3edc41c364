// Command procuration is the one binary of the system: each subcommand is a
// role (api, worker) or an operation (migrate, token, register import, seed,
// bench).
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
	var cfg config.Config
	cmd := &cobra.Command{
		Use:           "procuration",
		Short:         "Voting proxies: the official three-step flow on Temporal, PostgreSQL and SMTP",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			return cfg.Finish()
		},
	}
	cfg.Register(cmd.PersistentFlags())
	cmd.AddCommand(apiCmd(&cfg), workerCmd(&cfg), migrateCmd(&cfg), tokenCmd(&cfg), registerCmd(&cfg), seedCmd(&cfg), benchCmd(&cfg))
	return cmd
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
