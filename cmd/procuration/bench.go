package main

import (
	"github.com/spf13/cobra"

	"github.com/procurations/procuration/internal/config"
)

func benchCmd(cfg *config.Config) *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Benchmarks against a running stack"}
	return cmd
}
