// Package app is the composition root: it wires the configured parts
// together, once, for the binary's roles and for the end-to-end tests.
package app

import (
	"context"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/procurations/procuration/activities"
	"github.com/procurations/procuration/api"
	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/config"
	"github.com/procurations/procuration/internal/db"
	"github.com/procurations/procuration/internal/logging"
	"github.com/procurations/procuration/internal/mail"
	"github.com/procurations/procuration/internal/metrics"
	"github.com/procurations/procuration/internal/service"
	"github.com/procurations/procuration/internal/signup"
	"github.com/procurations/procuration/internal/store"
	"github.com/procurations/procuration/web"
	"github.com/procurations/procuration/workers"
)

type App struct {
	Cfg      config.Config
	Log      *zap.Logger
	Pool     *pgxpool.Pool
	Store    *store.Store
	Temporal client.Client
	Service  *service.Service
	// Metrics is what this process serves at /metrics.
	Metrics *metrics.Registry
}

// Open connects to PostgreSQL and (lazily) to Temporal, so that the API
// starts and answers 503 on /healthz while Temporal is still coming up.
func Open(ctx context.Context, cfg config.Config, log *zap.Logger) (*App, error) {
	pool, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	opts, err := cfg.TemporalOptions()
	if err != nil {
		pool.Close()
		return nil, err
	}
	opts.Logger = logging.Temporal(log)
	reg := metrics.New()
	opts.MetricsHandler = reg.Temporal(cfg.TaskQueue)
	tc, err := client.NewLazyClient(opts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	st := store.New(pool)
	svc := service.New(service.Service{Store: st, Temporal: tc, Namespace: cfg.Temporal.Namespace, TaskQueue: cfg.TaskQueue,
		FingerprintKey: []byte(cfg.FingerprintKey), MatchDossierCheck: cfg.MatchDossierCheck, RematchDelay: cfg.RematchDelay,
		UnmatchedNotice:   cfg.UnmatchedNotice,
		SignupsPerAddress: cfg.SignupsPerAddress, SignupsPerEmail: cfg.SignupsPerEmail, Log: log})
	return &App{Cfg: cfg, Log: log, Pool: pool, Store: st, Temporal: tc, Service: svc, Metrics: reg}, nil
}

func (a *App) Close() {
	a.Temporal.Close()
	a.Pool.Close()
}

// Handler is the API and the portals; it is also the issuer of the
// matching emails' links and, in development, of every token and the
// identity providers the portals sign in with.
func (a *App) Handler() (http.Handler, error) {
	issuer, err := a.Issuer()
	if err != nil {
		return nil, err
	}
	verifier := auth.NewVerifier(a.Cfg.Audience, a.Cfg.AgentIssuers, a.Cfg.GrantorIssuers)
	verifier.TrustLinks(issuer.URL)
	mounts := []api.Mount{issuer}
	if a.Cfg.DevIssuer {
		mounts = append(mounts, &auth.DevProviders{Issuer: issuer, ClientJWKS: a.Cfg.PublicURL + "/.well-known/portal-jwks.json",
			Identities: DevIdentities()})
	}
	pages, err := web.New(web.Deps{Service: a.Service, Store: a.Store, Log: a.Log, PublicURL: a.Cfg.PublicURL, Providers: a.providers(),
		EncryptionKeys: a.Cfg.Portals.EncryptionKeys, CreateKeys: !a.Cfg.Production(), SessionIdle: a.Cfg.Portals.SessionIdle,
		SessionMax: a.Cfg.Portals.SessionMax, Review: string(a.Cfg.Policy.Review), Links: verifier})
	if err != nil {
		return nil, err
	}
	a.countStatuses()
	h, _ := api.New(api.Deps{Service: a.Service, Verifier: verifier, Mounts: mounts, Pages: pages, Log: a.Log, PublicURL: a.Cfg.PublicURL,
		DocsAssets: a.Cfg.DocsAssets, TrustedProxies: a.Cfg.TrustedProxies, Metrics: a.Metrics})
	return h, nil
}

// providers are the identity providers configured for the portals; with
// the development issuer, those left unset are the development ones.
func (a *App) providers() []*web.Provider {
	p := a.Cfg.Portals
	var out []*web.Provider
	for _, x := range []struct {
		client config.OIDCClient
		p      *web.Provider
	}{
		{p.FranceConnect, &web.Provider{Name: web.FranceConnect, Label: "FranceConnect", Scopes: web.GrantorScopes, ACR: "eidas1"}},
		{p.FranceConnectPlus, &web.Provider{Name: web.FranceConnectPlus, Label: "France Identité", Scopes: web.GrantorScopes,
			ACR: "eidas2", Encrypted: true}},
		{p.ProConnect, &web.Provider{Name: web.ProConnect, Label: "ProConnect", Scopes: web.AgentScopes, ACR: "eidas1", Agents: true}},
	} {
		c := x.client
		if c.Issuer == "" && a.Cfg.DevIssuer {
			c = config.OIDCClient{Issuer: auth.DevProviderIssuer(a.Cfg.PublicURL, x.p.Name), ClientID: "portail-dev", ClientSecret: "dev"}
		}
		if c.Issuer == "" {
			continue
		}
		x.p.Issuer, x.p.ClientID, x.p.ClientSecret = c.Issuer, c.ClientID, c.ClientSecret
		out = append(out, x.p)
	}
	return out
}

// Issuer is the API's own issuer, at its public URL.
func (a *App) Issuer() (*auth.Issuer, error) {
	return auth.LoadOrCreateIssuer(a.Cfg.PublicURL, a.Cfg.Audience, a.Cfg.IssuerKey, !a.Cfg.Production())
}

// Worker runs the workflows and activities.
func (a *App) Worker() (worker.Worker, error) {
	sender, err := mail.NewSender(a.Cfg.SMTP)
	if err != nil {
		return nil, err
	}
	issuer, err := a.Issuer()
	if err != nil {
		return nil, err
	}
	outbox := &activities.Outbox{Store: a.Store, Mailer: sender, Domain: a.Cfg.MailDomain, MarkAttempts: 3, Metrics: a.Metrics}
	return workers.New(a.Temporal, a.Cfg.TaskQueue, workers.Deps{
		Policy: a.Cfg.Policy,
		Outbox: outbox,
		Procurations: &activities.Procurations{Store: a.Store, Mail: outbox, TownHallFallback: a.Cfg.TownHallFallback,
			PublicURL: a.Cfg.PublicURL, Temporal: a.Temporal},
		Signups: &activities.Signups{Store: a.Store, Mail: outbox, Issuer: issuer, PublicURL: a.Cfg.PublicURL,
			PerSecond: a.Cfg.ConfirmationsPerSecond},
		Matches: &activities.Matches{Store: a.Store, Mail: outbox, Issuer: issuer, PublicURL: a.Cfg.PublicURL},
		Campaigns: &activities.Campaigns{Store: a.Store, Temporal: a.Temporal, Runner: a.Service.Runner(),
			StartsParallel: a.Cfg.MatchStartsParallel},
		Bulk:       &activities.Bulk{Approve: a.Service.ApproveBatch, Parallel: 5},
		Options:    worker.Options{MaxConcurrentWorkflowTaskPollers: a.Cfg.TaskPollers, MaxConcurrentActivityTaskPollers: a.Cfg.TaskPollers},
		Versioning: a.Cfg.Versioning,
		Log:        a.Log,
	}), nil
}

// StartConfirmationSender starts the deployment's sender of sign-up
// confirmations, unless it runs already.
func (a *App) StartConfirmationSender(ctx context.Context) error {
	_, err := a.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: signup.SenderWorkflowID, TaskQueue: a.Cfg.TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		StaticSummary:            "Envoi des e-mails de confirmation des inscriptions"}, signup.SenderWorkflowName)
	return err
}

// KeepConfirmationSender makes sure the sender runs, from every worker:
// at start, and again should it end (a termination from the Web UI).
func (a *App) KeepConfirmationSender(ctx context.Context) {
	for {
		if err := a.StartConfirmationSender(ctx); err != nil && ctx.Err() == nil {
			a.Log.Warn("confirmation sender not started yet", zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Minute):
		}
	}
}
