// Package config reads the settings of the binary's roles from flags whose
// defaults come from the environment, themselves defaulting to what
// `make run` brings up. Each role reads only the settings it uses; a value
// that does not parse stops the process with the variable's name and what
// it expects; a production-looking deployment refuses development shortcuts.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/procurations/procuration/internal/campaign"
	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/internal/mail"
)

// DevelopmentFingerprintKey is the fingerprint key of development; a
// production deployment must set its own.
const DevelopmentFingerprintKey = "development-only-fingerprint-key"

// Roles a setting belongs to.
const (
	RoleAll    = "all"
	RoleAPI    = "api"
	RoleWorker = "worker"
	RoleLinks  = "api, worker"
)

type Config struct {
	// Environment is development or production; production forbids the
	// development issuer and the development keys.
	Environment string

	Temporal  Temporal
	TaskQueue string
	// Versioning is the worker's place among the releases.
	Versioning Versioning

	DatabaseURL string
	LogLevel    string

	// API.
	HTTPAddr          string
	HTTPReusePort     bool
	Audience          string
	AgentIssuers      []string
	GrantorIssuers    []string
	DevIssuer         bool
	SignupsPerAddress int
	SignupsPerEmail   int
	// ConfirmationsPerSecond paces the sign-ups' confirmation emails.
	ConfirmationsPerSecond int
	FingerprintKey         string
	DocsAssets             string
	// Portals are the web portals' sign-in and sessions.
	Portals Portals
	// TrustedProxies are the reverse proxies allowed to name the client.
	TrustedProxies []*net.IPNet
	trustedProxies string

	// The API and the worker: links in emails are signed with IssuerKey and
	// point at PublicURL; a match started by either reads its dossier every
	// MatchDossierCheck.
	PublicURL         string
	IssuerKey         string
	MatchDossierCheck time.Duration
	// A matching run's offers start MatchStartsParallel at a time; a
	// requester whose dossier failed is matched again after RematchDelay,
	// with those of the same moment.
	MatchStartsParallel int
	RematchDelay        time.Duration
	// UnmatchedNotice is how long before each round a campaign's
	// requesters still without a volunteer are told (when the campaign's
	// workflow starts).
	UnmatchedNotice time.Duration

	// Worker.
	// MetricsAddr is where the worker serves /metrics; empty, nowhere.
	MetricsAddr string
	// TaskPollers is how many requests for tasks the worker keeps open on
	// the server, for each kind (workflow, activity).
	TaskPollers      int
	SMTP             mail.Config
	MailDomain       string
	TownHallFallback string
	Policy           dossier.Policy
	review           string

	s settings
}

// Portals: the identity providers the web portals sign people in with.
// A provider whose issuer is empty is off (its portal says so), except
// with the development issuer, which then plays it.
type Portals struct {
	FranceConnect, FranceConnectPlus, ProConnect OIDCClient
	// EncryptionKeys are PEM files of the RSA keys FranceConnect+ encrypts
	// to, the first current; development creates the first.
	EncryptionKeys string
	// SessionIdle and SessionMax end a portal session.
	SessionIdle, SessionMax time.Duration
}

// OIDCClient is this service's registration with an identity provider.
type OIDCClient struct {
	Issuer, ClientID, ClientSecret string
}

// Temporal is the cluster to talk to.
type Temporal struct {
	Address    string
	Namespace  string
	APIKey     string
	TLS        bool
	CACert     string
	ClientCert string
	ClientKey  string
	ServerName string
}

// Versioning places the worker in a Temporal Worker Deployment: each
// release is a version of it, and the server sends a workflow's tasks only
// to the version it routes to (see workers.Versioned).
type Versioning struct {
	// Unversioned workers ignore Deployment and BuildID.
	Enabled bool
	// Deployment is the Worker Deployment's name.
	Deployment string
	// BuildID names the release; it defaults to the binary's VCS revision,
	// or its digest.
	BuildID string
	// Promote says when the worker makes its version the current one:
	// initial (only if the deployment has none yet), always (development)
	// or never (a release is promoted with the CLI).
	Promote string
}

// Register adds the settings of the given roles to fs; RoleAll adds every
// setting (the tests, the benchmarks).
func (c *Config) Register(fs *pflag.FlagSet, roles ...string) {
	c.s.fs = fs
	has := func(role string) bool {
		for _, r := range roles {
			if r == role || r == RoleAll {
				return true
			}
		}
		return false
	}
	c.registerCommon()
	if has(RoleAPI) || has(RoleWorker) {
		c.registerLinks()
	}
	if has(RoleAPI) {
		c.registerAPI()
	}
	if has(RoleWorker) {
		c.registerWorker()
	}
}

func (c *Config) registerCommon() {
	s := &c.s
	s.str(&c.Environment, "environment", "ENVIRONMENT", "development", "development or production", "what this deployment is", RoleAll,
		oneOf("development", "production"))
	s.str(&c.Temporal.Address, "temporal-address", "TEMPORAL_ADDRESS", "127.0.0.1:7233", "host:port", "Temporal frontend", RoleAll, hostPort)
	s.str(&c.Temporal.Namespace, "temporal-namespace", "TEMPORAL_NAMESPACE", "default", "a namespace name", "Temporal namespace", RoleAll, nonEmpty)
	s.str(&c.Temporal.APIKey, "temporal-api-key", "TEMPORAL_API_KEY", "", "an API key", "Temporal Cloud API key (implies TLS)", RoleAll, nil)
	s.boolean(&c.Temporal.TLS, "temporal-tls", "TEMPORAL_TLS", false, "connect to Temporal over TLS", RoleAll)
	s.str(&c.Temporal.CACert, "temporal-tls-ca", "TEMPORAL_TLS_CA", "", "a PEM file", "CA certificate of the Temporal frontend; empty: the system's", RoleAll, nil)
	s.str(&c.Temporal.ClientCert, "temporal-tls-cert", "TEMPORAL_TLS_CERT", "", "a PEM file", "client certificate for mTLS (with TEMPORAL_TLS_KEY)", RoleAll, nil)
	s.str(&c.Temporal.ClientKey, "temporal-tls-key", "TEMPORAL_TLS_KEY", "", "a PEM file", "client key for mTLS", RoleAll, nil)
	s.str(&c.Temporal.ServerName, "temporal-tls-server-name", "TEMPORAL_TLS_SERVER_NAME", "", "a host name", "name the frontend's certificate carries; empty: the host of TEMPORAL_ADDRESS", RoleAll, nil)
	s.str(&c.TaskQueue, "task-queue", "TEMPORAL_TASK_QUEUE", "procurations", "a task queue name", "task queue of the workflows", RoleAll, nonEmpty)
	s.str(&c.DatabaseURL, "database-url", "DATABASE_URL", "postgres://postgres@127.0.0.1:54329/procuration?sslmode=disable",
		"a postgres:// URL", "PostgreSQL", RoleAll, postgresURL)
	s.str(&c.LogLevel, "log-level", "LOG_LEVEL", "info", "debug, info, warn or error", "log level", RoleAll, oneOf("debug", "info", "warn", "error"))
}

func (c *Config) registerLinks() {
	s := &c.s
	s.str(&c.PublicURL, "public-url", "PUBLIC_URL", "http://127.0.0.1:8080", "an absolute http(s) URL",
		"the API's external URL: links in emails, the API's own issuer", RoleLinks, func(v string) error { _, err := absoluteURL(v); return err })
	// The worker signs its emails' links for the audience the API expects.
	s.str(&c.Audience, "oidc-audience", "OIDC_AUDIENCE", "procuration", "a client id", "expected token audience (and that of the emails' links)",
		RoleLinks, nonEmpty)
	s.str(&c.IssuerKey, "issuer-key", "ISSUER_KEY", ".data/issuer.pem", "a PEM file", "signing key of the links in emails", RoleLinks, nonEmpty)
	s.duration(&c.MatchDossierCheck, "match-dossier-check", "MATCH_DOSSIER_CHECK", 6*time.Hour, "how often a match reads its linked dossier", RoleLinks)
	s.integer(&c.MatchStartsParallel, "match-starts-parallel", "MATCH_STARTS_PARALLEL", 32, 1, 512,
		"match workflows a matching run starts at a time", RoleLinks)
	s.duration(&c.RematchDelay, "rematch-delay", "REMATCH_DELAY", time.Minute,
		"wait before matching again a requester whose dossier failed, with others of the same moment", RoleLinks)
	s.duration(&c.UnmatchedNotice, "unmatched-notice", "UNMATCHED_NOTICE", campaign.DefaultUnmatchedNotice,
		"how long before each round a campaign tells its requesters still without a volunteer, and of the other ways (the campaigns started from then)", RoleLinks)
	s.str(&c.review, "town-hall-review", "TOWN_HALL_REVIEW", "manual", "manual or automatic", "town hall step: an agent (2021) or the register's checks (2022)",
		RoleLinks, oneOf("manual", "automatic"))
}

func (c *Config) registerAPI() {
	s := &c.s
	s.str(&c.HTTPAddr, "http-addr", "HTTP_ADDR", "127.0.0.1:8080", "host:port", "API listen address", RoleAPI, hostPort)
	// Replicas on one host share the port and the kernel spreads connections
	// among them; off, a second API on the port fails to start, as it should.
	s.boolean(&c.HTTPReusePort, "http-reuse-port", "HTTP_REUSE_PORT", false, "let several API replicas on one host listen on HTTP_ADDR (SO_REUSEPORT)", RoleAPI)
	s.urls(&c.AgentIssuers, "oidc-agent-issuers", "OIDC_AGENT_ISSUERS", "issuers trusted for agent tokens", RoleAPI)
	s.urls(&c.GrantorIssuers, "oidc-grantor-issuers", "OIDC_GRANTOR_ISSUERS", "FranceConnect issuers trusted for grantor tokens", RoleAPI)
	s.boolean(&c.DevIssuer, "dev-issuer", "DEV_ISSUER", false, "accept the API's own development tokens for every role (never in production)", RoleAPI)
	s.integer(&c.SignupsPerAddress, "signups-per-address", "SIGNUPS_PER_ADDRESS", 30, 0, 1_000_000, "sign-ups per hour from one client address (0: no limit)", RoleAPI)
	s.integer(&c.SignupsPerEmail, "signups-per-email", "SIGNUPS_PER_EMAIL", 3, 0, 1000, "sign-ups per hour for one email (0: no limit)", RoleAPI)
	s.str(&c.FingerprintKey, "fingerprint-key", "FINGERPRINT_KEY", DevelopmentFingerprintKey, "a secret of 32 characters or more",
		"HMAC key of the fingerprints kept of ID document numbers", RoleAPI, nil)
	s.str(&c.trustedProxies, "trusted-proxies", "TRUSTED_PROXIES", "", "a comma-separated list of CIDR blocks",
		"reverse proxies whose X-Forwarded-For names the client (rate limits); empty: none", RoleAPI, cidrs)
	for _, p := range []struct {
		client      *OIDCClient
		flag, env   string
		name, users string
	}{
		{&c.Portals.FranceConnect, "franceconnect", "FRANCECONNECT", "FranceConnect", "grantors"},
		{&c.Portals.FranceConnectPlus, "franceconnect-plus", "FRANCECONNECT_PLUS", "FranceConnect+", "grantors with France Identité"},
		{&c.Portals.ProConnect, "proconnect", "PROCONNECT", "ProConnect", "police officers, town halls and support"},
	} {
		s.str(&p.client.Issuer, p.flag+"-issuer", p.env+"_ISSUER", "", "an issuer URL", p.name+" issuer, signing in "+p.users+"; empty: off (with DEV_ISSUER, the development one)",
			RoleAPI, optionalURL)
		s.str(&p.client.ClientID, p.flag+"-client-id", p.env+"_CLIENT_ID", "", "a client id", "this service's client id at "+p.name, RoleAPI, nil)
		s.str(&p.client.ClientSecret, p.flag+"-client-secret", p.env+"_CLIENT_SECRET", "", "a secret", "this service's client secret at "+p.name, RoleAPI, nil)
	}
	s.str(&c.Portals.EncryptionKeys, "portal-encryption-keys", "PORTAL_ENCRYPTION_KEYS", ".data/portal-encryption.pem", "comma-separated PEM files",
		"RSA keys FranceConnect+ encrypts to, the first current (development creates it)", RoleAPI, nonEmpty)
	s.duration(&c.Portals.SessionIdle, "session-idle", "SESSION_IDLE", 30*time.Minute, "a portal session ends after this long unused", RoleAPI)
	s.duration(&c.Portals.SessionMax, "session-max", "SESSION_MAX", 12*time.Hour, "and after this long in any case", RoleAPI)
	s.str(&c.DocsAssets, "docs-assets", "DOCS_ASSETS", "", "a folder", "the /docs renderer, for closed networks; empty: a CDN", RoleAPI, nil)
}

func (c *Config) registerWorker() {
	s := &c.s
	s.str(&c.SMTP.Host, "smtp-host", "SMTP_HOST", "127.0.0.1", "a host name", "SMTP relay", RoleWorker, nonEmpty)
	s.integer(&c.SMTP.Port, "smtp-port", "SMTP_PORT", 1025, 1, 65535, "SMTP relay port", RoleWorker)
	s.str(&c.SMTP.Username, "smtp-username", "SMTP_USERNAME", "", "a user name", "SMTP user", RoleWorker, nil)
	s.str(&c.SMTP.Password, "smtp-password", "SMTP_PASSWORD", "", "a password", "SMTP password", RoleWorker, nil)
	s.str(&c.SMTP.From, "smtp-from", "SMTP_FROM", "Procurations <ne-pas-repondre@procuration.example>", "a From header", "sender of the official emails",
		RoleWorker, nonEmpty)
	s.str(&c.SMTP.TLS, "smtp-tls", "SMTP_TLS", "none", "none, starttls or tls", "SMTP transport security", RoleWorker, oneOf("none", "starttls", "tls"))
	s.str(&c.MailDomain, "mail-domain", "MAIL_DOMAIN", "procuration.example", "a domain", "domain of Message-IDs", RoleWorker, nonEmpty)
	s.str(&c.TownHallFallback, "town-hall-email", "TOWN_HALL_EMAIL", "elections-{code}@mairies.example", "an address with {code}",
		"electoral service address of a commune with none registered; {code} is the INSEE code", RoleWorker, nonEmpty)
	p := dossier.DefaultPolicy()
	s.duration(&c.Policy.PoliceFirstReminder, "reminder-police-first", "REMINDER_POLICE_FIRST", p.PoliceFirstReminder, "first reminder to visit the police", RoleWorker)
	s.duration(&c.Policy.PoliceReminderEvery, "reminder-police-every", "REMINDER_POLICE_EVERY", p.PoliceReminderEvery, "then every", RoleWorker)
	s.duration(&c.Policy.BeforeRoundReminder, "reminder-before-round", "REMINDER_BEFORE_ROUND", p.BeforeRoundReminder, "reminder before the first round", RoleWorker)
	s.duration(&c.Policy.TownHallFirstReminder, "reminder-town-hall-first", "REMINDER_TOWN_HALL_FIRST", p.TownHallFirstReminder, "first reminder to the town hall", RoleWorker)
	s.duration(&c.Policy.TownHallReminderEvery, "reminder-town-hall-every", "REMINDER_TOWN_HALL_EVERY", p.TownHallReminderEvery, "then every", RoleWorker)
	s.boolean(&c.Versioning.Enabled, "worker-versioning", "WORKER_VERSIONING", true,
		"run as a version of a Temporal Worker Deployment (false: an unversioned worker)", RoleWorker)
	s.str(&c.Versioning.Deployment, "worker-deployment", "WORKER_DEPLOYMENT", "procuration", "a name without dots or colons",
		"Temporal Worker Deployment the worker belongs to", RoleWorker, deploymentName)
	s.str(&c.Versioning.BuildID, "build-id", "BUILD_ID", "", "a release name or a revision",
		"version of this worker in its deployment; empty: the binary's VCS revision, else a digest of it", RoleWorker, buildID)
	s.str(&c.Versioning.Promote, "worker-promote", "WORKER_PROMOTE", "initial", "initial, always or never",
		"make this worker's version current at start: initial (when the deployment has none), always (development), never (the release does)",
		RoleWorker, oneOf("initial", "always", "never"))
	s.str(&c.MetricsAddr, "metrics-addr", "METRICS_ADDR", "", "host:port, or empty",
		"where the worker serves Prometheus /metrics (the API serves it on HTTP_ADDR); empty: off", RoleWorker, optional(hostPort))
	// The SDK's default of 2 leaves one poller on the task queue besides the
	// sticky one: a matching run's thousands of first tasks then wait
	// minutes in the queue while the server idles.
	s.integer(&c.TaskPollers, "task-pollers", "TASK_POLLERS", 8, 2, 256,
		"workflow tasks, and activity tasks, the worker asks the server for at a time", RoleWorker)
	s.integer(&c.ConfirmationsPerSecond, "confirmations-per-second", "CONFIRMATIONS_PER_SECOND", 50, 1, 10000,
		"emails to sign-ups (confirmations, notices before a round) sent a second, the mail relay's pace", RoleWorker)
}

// Settings describes what was registered, for --help and the README.
func (c *Config) Settings() []Documented { return c.s.documented }

// Finish refuses what flags and variables got wrong, then derives values.
func (c *Config) Finish() error {
	var problems []string
	for flag, problem := range c.s.problems {
		if c.s.fs == nil || !c.s.fs.Changed(flag) {
			problems = append(problems, problem)
		}
	}
	sort.Strings(problems)
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.review != "" {
		c.Policy.Review = dossier.ReviewMode(c.review)
	}
	if c.Production() {
		if c.DevIssuer {
			problems = append(problems, "DEV_ISSUER=true: the development issuer is refused in production (ENVIRONMENT=production or a non-loopback PUBLIC_URL)")
		}
		if c.FingerprintKey == DevelopmentFingerprintKey {
			problems = append(problems, "FINGERPRINT_KEY: a secret of your own is required in production (the default is public)")
		}
	}
	if c.FingerprintKey != "" && c.FingerprintKey != DevelopmentFingerprintKey && len(c.FingerprintKey) < 32 {
		problems = append(problems, "FINGERPRINT_KEY: a secret of 32 characters or more expected")
	}
	if c.Production() && c.SMTP.Host != "" && c.SMTP.TLS == "none" && !loopback(c.SMTP.Host) {
		problems = append(problems, "SMTP_TLS=none: emails would cross the network in clear; starttls or tls expected in production")
	}
	for _, p := range []struct {
		env    string
		client OIDCClient
	}{{"FRANCECONNECT", c.Portals.FranceConnect}, {"FRANCECONNECT_PLUS", c.Portals.FranceConnectPlus}, {"PROCONNECT", c.Portals.ProConnect}} {
		if p.client.Issuer != "" && (p.client.ClientID == "" || p.client.ClientSecret == "") {
			problems = append(problems, p.env+"_ISSUER is set: "+p.env+"_CLIENT_ID and "+p.env+"_CLIENT_SECRET are required with it")
		}
	}
	problems = append(problems, c.Temporal.problems()...)
	if len(problems) > 0 {
		return errors.New("configuration refused:\n  " + strings.Join(problems, "\n  "))
	}
	c.TrustedProxies = nil
	for _, block := range strings.Split(c.trustedProxies, ",") {
		if block = strings.TrimSpace(block); block != "" {
			_, n, _ := net.ParseCIDR(block)
			c.TrustedProxies = append(c.TrustedProxies, n)
		}
	}
	if c.Versioning.Enabled && c.Versioning.BuildID == "" {
		c.Versioning.BuildID = RevisionBuildID()
	}
	if c.DevIssuer {
		c.AgentIssuers = append(c.AgentIssuers, c.PublicURL)
		c.GrantorIssuers = append(c.GrantorIssuers, c.PublicURL)
	}
	return nil
}

// Production reports a production-looking deployment: declared so, or
// reachable elsewhere than on this machine.
func (c *Config) Production() bool {
	if c.Environment == "production" {
		return true
	}
	if c.PublicURL == "" {
		return false
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil {
		return true
	}
	return !loopback(u.Hostname())
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func cidrs(s string) error {
	for _, block := range strings.Split(s, ",") {
		if block = strings.TrimSpace(block); block != "" {
			if _, _, err := net.ParseCIDR(block); err != nil {
				return err
			}
		}
	}
	return nil
}

func optional(check func(string) error) func(string) error {
	return func(s string) error {
		if s == "" {
			return nil
		}
		return check(s)
	}
}

func optionalURL(s string) error {
	if s == "" {
		return nil
	}
	_, err := absoluteURL(s)
	return err
}

func nonEmpty(s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("empty")
	}
	return nil
}

func postgresURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return fmt.Errorf("not a postgres URL")
	}
	return nil
}
