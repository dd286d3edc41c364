package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/procurations/procuration/cmd/procuration/app"
	"github.com/procurations/procuration/internal/config"
	"github.com/procurations/procuration/internal/db"
	"github.com/procurations/procuration/internal/geo"
	"github.com/procurations/procuration/internal/store"
)

func migrateCmd() *cobra.Command {
	var cfg *config.Config
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the database migrations embedded in the binary",
		RunE: func(cmd *cobra.Command, _ []string) error {
			pool, err := db.Open(cmd.Context(), cfg.DatabaseURL)
			if err != nil {
				return err
			}
			defer pool.Close()
			applied, err := db.Migrate(cmd.Context(), pool)
			if err != nil {
				return err
			}
			if len(applied) == 0 {
				fmt.Println("database schema up to date")
			} else {
				fmt.Println("applied migrations", applied)
			}
			return nil
		},
	}
	cfg = configured(cmd)
	return cmd
}

func registerCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "register", Short: "The electoral register extract"}
	cmd.AddCommand(
		csvImportCmd("import FILE", "Upsert a register extract (CSV: nne,family_name,given_names,sex,birth_date,commune_code,polling_station)",
			"voters", func(ctx context.Context, a *app.App, f io.Reader) (store.Import, error) {
				return a.Store.ImportRegister(ctx, f, time.Now())
			}),
		csvImportCmd("stations FILE", "Upsert the communes' lists of polling stations (CSV: code,commune_code,name,address)",
			"polling stations", func(ctx context.Context, a *app.App, f io.Reader) (store.Import, error) {
				return a.Store.ImportPollingStations(ctx, f)
			}))
	return cmd
}

// csvImportCmd loads a CSV file with load, reporting each rejected line.
func csvImportCmd(use, short, what string, load func(context.Context, *app.App, io.Reader) (store.Import, error)) *cobra.Command {
	var cfg *config.Config
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			a, err := open(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer a.Close()
			res, err := load(cmd.Context(), a, f)
			for _, r := range res.Rejected {
				fmt.Fprintf(os.Stderr, "line %d: %s\n", r.Line, r.Reason)
			}
			if err != nil {
				return fmt.Errorf("nothing imported: %w", err)
			}
			fmt.Printf("imported %d %s, rejected %d lines\n", res.Imported, what, len(res.Rejected)+res.MoreRejected)
			return nil
		},
	}
	cfg = configured(cmd)
	return cmd
}

// seedStations names every polling station the register uses.
func seedStations(ctx context.Context, st *store.Store, communes []store.Commune) (int, error) {
	codes, err := st.StationCodes(ctx)
	if err != nil {
		return 0, err
	}
	names := make(map[string]string, len(communes))
	for _, c := range communes {
		names[c.Code] = c.Name
	}
	return st.UpsertPollingStations(ctx, geo.SyntheticStations(codes, func(code string) string { return names[code] }))
}

func seedCmd() *cobra.Command {
	var (
		voters int
		cfg    *config.Config
	)
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "Load the demo data: the official communes, an election with two rounds and a synthetic register",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			a, err := open(ctx, cfg)
			if err != nil {
				return err
			}
			defer a.Close()
			communes, err := geo.Communes()
			if err != nil {
				return err
			}
			if err := a.Store.LoadCommunes(ctx, communes); err != nil {
				return err
			}
			if err := a.Store.UpsertElection(ctx, geo.DemoElection); err != nil {
				return err
			}
			var csv bytes.Buffer
			if err := geo.SyntheticRegister(&csv, communes, voters, 2027); err != nil {
				return err
			}
			res, err := a.Store.ImportRegister(ctx, &csv, time.Now())
			if err != nil {
				return err
			}
			if len(res.Rejected) > 0 {
				return fmt.Errorf("synthetic register: %d lines rejected, first: line %d %s", len(res.Rejected), res.Rejected[0].Line, res.Rejected[0].Reason)
			}
			stations, err := seedStations(ctx, a.Store, communes)
			if err != nil {
				return err
			}
			granted, err := app.SeedDemoRights(ctx, a.Store)
			if err != nil {
				return err
			}
			if _, err := app.SeedDemoCampaign(ctx, a.Service); err != nil {
				return err
			}
			fmt.Printf("demo data: %d communes, election %s, %d voters in the register, %d polling stations, %d agents' rights\n",
				len(communes), geo.DemoElection.ID, res.Imported, stations, granted)
			return nil
		},
	}
	cmd.Flags().IntVar(&voters, "voters", 20000, "synthetic voters besides the fixed demo ones")
	cfg = configured(cmd)
	return cmd
}
