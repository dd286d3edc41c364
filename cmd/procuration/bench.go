package main

import (
	"os"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/bench"
	"github.com/procurations/procuration/internal/config"
	"github.com/procurations/procuration/internal/logging"
)

func benchCmd() *cobra.Command {
	var cfg *config.Config
	cmd := &cobra.Command{Use: "bench", Short: "Benchmarks against a running stack (make run)"}
	var dossiers, concurrency int
	lifecycle := &cobra.Command{
		Use:   "lifecycle",
		Short: "Dossiers through create, police and town hall over HTTP, against a bare SDK workflow in the same run",
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := logging.New("warn")
			if err != nil {
				return err
			}
			opts, err := cfg.TemporalOptions()
			if err != nil {
				return err
			}
			opts.Logger = logging.Temporal(log)
			tc, err := client.Dial(opts)
			if err != nil {
				return err
			}
			defer tc.Close()
			issuer, err := auth.LoadOrCreateIssuer(cfg.PublicURL, cfg.Audience, cfg.IssuerKey, !cfg.Production())
			if err != nil {
				return err
			}
			return (&bench.Lifecycle{APIURL: cfg.PublicURL, Temporal: tc, Issuer: issuer,
				Dossiers: dossiers, Concurrency: concurrency, Out: os.Stdout}).Run(cmd.Context())
		},
	}
	lifecycle.Flags().IntVar(&dossiers, "dossiers", 200, "how many dossiers (and bare workflows)")
	cfg = configured(lifecycle, config.RoleAPI)
	lifecycle.Flags().IntVar(&concurrency, "concurrency", 16, "portals acting at once")
	var sizes []int
	var seed uint64
	match := &cobra.Command{
		Use: "matching",
		Short: "The matching engine, the engine before rounds were optimised together, and the greedy baseline " +
			"on synthetic pools over the real communes (no stack needed)",
		RunE: func(*cobra.Command, []string) error {
			return (&bench.Matching{Sizes: sizes, Seed: seed, Out: os.Stdout}).Run()
		},
	}
	match.Flags().IntSliceVar(&sizes, "sizes", []int{10000, 100000, 1000000}, "pool sizes in sign-ups, half requests half volunteers")
	match.Flags().Uint64Var(&seed, "seed", 2027, "seed of the synthetic pools")
	var users, views int
	var portalsCfg *config.Config
	portals := &cobra.Command{
		Use:   "portals",
		Short: "The portals' main pages under many signed-in people at once, beside the same calls through the JSON API (needs DEV_ISSUER=true)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			issuer, err := auth.LoadOrCreateIssuer(portalsCfg.PublicURL, portalsCfg.Audience, portalsCfg.IssuerKey, !portalsCfg.Production())
			if err != nil {
				return err
			}
			return (&bench.Portals{APIURL: portalsCfg.PublicURL, Issuer: issuer, Users: users, Views: views, Out: os.Stdout}).Run(cmd.Context())
		},
	}
	portalsCfg = configured(portals, config.RoleAPI)
	portals.Flags().IntVar(&users, "users", 50, "people signed in at once")
	portals.Flags().IntVar(&views, "views", 20, "times each person opens each page")
	var signups, signupConcurrency, signupRate int
	var signupAddresses bool
	var inbox string
	var signupsCfg *config.Config
	signupBurst := &cobra.Command{
		Use:   "signups",
		Short: "A burst of public sign-ups on a new campaign: answers p50/p99 beside /healthz, then every confirmation sent once (needs DEV_ISSUER=true, SIGNUPS_PER_ADDRESS=0)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			issuer, err := auth.LoadOrCreateIssuer(signupsCfg.PublicURL, signupsCfg.Audience, signupsCfg.IssuerKey, !signupsCfg.Production())
			if err != nil {
				return err
			}
			pool, err := pgxpool.New(cmd.Context(), signupsCfg.DatabaseURL)
			if err != nil {
				return err
			}
			defer pool.Close()
			return (&bench.Signups{APIURL: signupsCfg.PublicURL, Issuer: issuer, DB: pool, Signups: signups, Concurrency: signupConcurrency,
				Rate: signupRate, Addresses: signupAddresses, Inbox: inbox, Out: os.Stdout}).Run(cmd.Context())
		},
	}
	signupsCfg = configured(signupBurst, config.RoleAPI)
	signupBurst.Flags().IntVar(&signups, "signups", 2000, "sign-ups in the burst")
	signupBurst.Flags().IntVar(&signupConcurrency, "concurrency", 50, "sign-ups at once")
	signupBurst.Flags().IntVar(&signupRate, "rate", 0, "sign-ups a second, sent whatever the answers (default: --concurrency at a time)")
	signupBurst.Flags().BoolVar(&signupAddresses, "addresses", false, "each two sign-ups from their own address, the per-address limit on (needs TRUSTED_PROXIES=127.0.0.1/32)")
	signupBurst.Flags().StringVar(&inbox, "inbox", "http://127.0.0.1:1080", "MailDev's address, to count what it received (empty: skip)")
	var pairs, parallel int
	var approve bool
	var offersCfg *config.Config
	offers := &cobra.Command{
		Use:   "offers",
		Short: "A real matching run: its proposals visible, then the rate of its match workflows' starts beside a bare start loop",
		RunE: func(cmd *cobra.Command, _ []string) error {
			issuer, err := auth.LoadOrCreateIssuer(offersCfg.PublicURL, offersCfg.Audience, offersCfg.IssuerKey, !offersCfg.Production())
			if err != nil {
				return err
			}
			pool, err := pgxpool.New(cmd.Context(), offersCfg.DatabaseURL)
			if err != nil {
				return err
			}
			defer pool.Close()
			opts, err := offersCfg.TemporalOptions()
			if err != nil {
				return err
			}
			tc, err := client.Dial(opts)
			if err != nil {
				return err
			}
			defer tc.Close()
			if parallel == 0 {
				parallel = offersCfg.MatchStartsParallel
			}
			return (&bench.Offers{APIURL: offersCfg.PublicURL, Issuer: issuer, DB: pool, Temporal: tc, Pairs: pairs, Parallel: parallel,
				Approve: approve, Out: os.Stdout}).Run(cmd.Context())
		},
	}
	offersCfg = configured(offers, config.RoleAPI)
	offers.Flags().IntVar(&pairs, "pairs", 5000, "requests, and as many volunteers, all matchable")
	offers.Flags().BoolVar(&approve, "approve", false, "then approve every proposal in one bulk job and wait for all offer emails")
	offers.Flags().IntVar(&parallel, "parallel", 0, "the bare loop's starts at a time (default: the worker's MATCH_STARTS_PARALLEL)")
	cmd.AddCommand(lifecycle, match, portals, signupBurst, offers, faultsCmd())
	return cmd
}
