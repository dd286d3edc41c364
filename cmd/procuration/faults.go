package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/procurations/procuration/internal/faults"
)

// faultsCmd is the fault harness: its own stack, its own load, its faults.
func faultsCmd() *cobra.Command {
	h := faults.Harness{Out: os.Stdout}
	var temporalCLI, dir string
	var kinds []string
	var cycle, dossierCheck time.Duration
	cmd := &cobra.Command{
		Use: "faults",
		Short: "Dossiers and matches through every step while the worker, the API and Temporal are SIGKILLed and PostgreSQL " +
			"and SMTP stopped; then every final state, email and 5xx checked (own stack on free ports; minutes)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			root, err := moduleRoot()
			if err != nil {
				return err
			}
			self, err := os.Executable()
			if err != nil {
				return err
			}
			cli, err := faults.FindTool("the temporal CLI (make builds bin/temporal; or set TEMPORAL_CLI)", temporalCLI,
				os.Getenv("TEMPORAL_CLI"), "temporal", filepath.Join(root, "bin", "temporal"))
			if err != nil {
				return err
			}
			h.Stack = faults.StackOptions{Binary: self, TemporalCLI: cli, PostgresScript: filepath.Join(root, "deploy", "dev", "postgres.sh"),
				Dir: dir, MatchDossierCheck: dossierCheck}
			h.Cycle = cycle
			h.Plan = []faults.PlannedFault{}
			for _, f := range faults.DefaultPlan() {
				if slices.Contains(kinds, f.Kind) {
					// A shorter cycle keeps the order and the downtimes, closer together.
					f.After = time.Duration(float64(f.After) * float64(cycle) / float64(faults.CycleLength))
					h.Plan = append(h.Plan, f)
				}
			}
			return h.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.IntVar(&h.Dossiers, "dossiers", 800, "dossiers through create, police verification and town hall validation")
	f.IntVar(&h.Matches, "matches", 250, "pairs from sign-up to a completed match, each with the requester's dossier")
	f.DurationVar(&h.Spread, "spread", 8*time.Minute, "how long the steps are spread over, so that all are in flight at once")
	f.IntVar(&h.Cycles, "cycles", 2, "cycles of faults at least (more while the load runs)")
	f.DurationVar(&cycle, "cycle", faults.CycleLength, "length of a cycle of faults")
	f.IntVar(&h.Parallel, "parallel", 32, "requests under way at once")
	f.StringVar(&temporalCLI, "temporal-cli", "", "the temporal CLI (default: $TEMPORAL_CLI, PATH, bin/temporal)")
	f.StringVar(&dir, "dir", "", "folder for the stack's data and logs (default: a new temporary one)")
	f.DurationVar(&dossierCheck, "match-dossier-check", 5*time.Second, "how often a linked match reads its dossier")
	f.StringSliceVar(&kinds, "faults", []string{faults.KillWorker, faults.KillAPI, faults.KillTemporal, faults.StopPostgres, faults.StopSMTP},
		"the faults of a cycle (none: the same load without faults, a baseline)")
	return cmd
}

// moduleRoot is the checkout the harness runs from: it uses its scripts.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "deploy", "dev", "postgres.sh")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run it from the project's checkout: it uses deploy/dev/postgres.sh")
		}
		dir = parent
	}
}
