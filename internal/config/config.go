// Package config reads the settings every role of the binary shares, from
// flags whose defaults come from the environment, themselves defaulting to
// what `make run` brings up. The same binary therefore talks to the dev
// stack with no settings and to a production cluster with a few variables.
package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"go.temporal.io/sdk/client"

	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/internal/mail"
)

type Config struct {
	TemporalAddress   string
	TemporalNamespace string
	TemporalAPIKey    string
	TemporalTLS       bool
	TaskQueue         string

	DatabaseURL string

	SMTP mail.Config
	// MailDomain ends Message-IDs.
	MailDomain       string
	TownHallFallback string

	HTTPAddr  string
	PublicURL string

	Audience       string
	AgentIssuers   []string
	GrantorIssuers []string
	// The API is an OpenID issuer at PublicURL, signing with IssuerKey: always
	// for the links of the matching emails, and, with DevIssuer, for
	// development tokens of every role.
	DevIssuer bool
	IssuerKey string

	// MatchDossierCheck is how often a match reads its linked dossier.
	MatchDossierCheck time.Duration

	// Sign-ups per hour accepted from one client address and for one email.
	SignupsPerAddress int
	SignupsPerEmail   int

	// FingerprintKey keys the hash kept of identity document numbers.
	FingerprintKey string

	Policy dossier.Policy
	review string

	LogLevel string
	// DocsAssets is where the /docs renderer is served from, if set.
	DocsAssets string
}

// Register adds the flags to fs.
func (c *Config) Register(fs *pflag.FlagSet) {
	fs.StringVar(&c.TemporalAddress, "temporal-address", env("TEMPORAL_ADDRESS", "127.0.0.1:7233"), "Temporal frontend host:port (TEMPORAL_ADDRESS)")
	fs.StringVar(&c.TemporalNamespace, "temporal-namespace", env("TEMPORAL_NAMESPACE", "default"), "Temporal namespace (TEMPORAL_NAMESPACE)")
	fs.StringVar(&c.TemporalAPIKey, "temporal-api-key", env("TEMPORAL_API_KEY", ""), "Temporal Cloud API key (TEMPORAL_API_KEY)")
	fs.BoolVar(&c.TemporalTLS, "temporal-tls", envBool("TEMPORAL_TLS", false), "connect to Temporal over TLS (TEMPORAL_TLS)")
	fs.StringVar(&c.TaskQueue, "task-queue", env("TEMPORAL_TASK_QUEUE", "procurations"), "task queue (TEMPORAL_TASK_QUEUE)")
	fs.StringVar(&c.DatabaseURL, "database-url", env("DATABASE_URL", "postgres://postgres@127.0.0.1:54329/procuration?sslmode=disable"), "PostgreSQL URL (DATABASE_URL)")
	fs.StringVar(&c.SMTP.Host, "smtp-host", env("SMTP_HOST", "127.0.0.1"), "SMTP relay host (SMTP_HOST)")
	fs.IntVar(&c.SMTP.Port, "smtp-port", envInt("SMTP_PORT", 1025), "SMTP relay port (SMTP_PORT)")
	fs.StringVar(&c.SMTP.Username, "smtp-username", env("SMTP_USERNAME", ""), "SMTP user (SMTP_USERNAME)")
	fs.StringVar(&c.SMTP.Password, "smtp-password", env("SMTP_PASSWORD", ""), "SMTP password (SMTP_PASSWORD)")
	fs.StringVar(&c.SMTP.From, "smtp-from", env("SMTP_FROM", "Procurations <ne-pas-repondre@procuration.example>"), "sender (SMTP_FROM)")
	fs.StringVar(&c.SMTP.TLS, "smtp-tls", env("SMTP_TLS", "none"), "none, starttls or tls (SMTP_TLS)")
	fs.StringVar(&c.MailDomain, "mail-domain", env("MAIL_DOMAIN", "procuration.example"), "domain of Message-IDs (MAIL_DOMAIN)")
	fs.StringVar(&c.TownHallFallback, "town-hall-email", env("TOWN_HALL_EMAIL", "elections-{code}@mairies.example"),
		"electoral service address for a commune with none registered; {code} is the INSEE code (TOWN_HALL_EMAIL)")
	fs.StringVar(&c.HTTPAddr, "http-addr", env("HTTP_ADDR", "127.0.0.1:8080"), "API listen address (HTTP_ADDR)")
	fs.StringVar(&c.PublicURL, "public-url", env("PUBLIC_URL", "http://127.0.0.1:8080"), "the API's external URL, also the dev issuer (PUBLIC_URL)")
	fs.StringVar(&c.Audience, "oidc-audience", env("OIDC_AUDIENCE", "procuration"), "expected token audience (OIDC_AUDIENCE)")
	fs.StringSliceVar(&c.AgentIssuers, "oidc-agent-issuers", envList("OIDC_AGENT_ISSUERS"), "issuers trusted for agent tokens (OIDC_AGENT_ISSUERS)")
	fs.StringSliceVar(&c.GrantorIssuers, "oidc-grantor-issuers", envList("OIDC_GRANTOR_ISSUERS"), "FranceConnect issuers trusted for grantor tokens (OIDC_GRANTOR_ISSUERS)")
	fs.BoolVar(&c.DevIssuer, "dev-issuer", envBool("DEV_ISSUER", true), "serve a development OpenID issuer at the public URL (DEV_ISSUER)")
	fs.StringVar(&c.IssuerKey, "issuer-key", env("ISSUER_KEY", ".data/issuer.pem"), "signing key of the API's own issuer (ISSUER_KEY)")
	fs.DurationVar(&c.MatchDossierCheck, "match-dossier-check", envDuration("MATCH_DOSSIER_CHECK", 6*time.Hour), "how often a match reads its linked dossier (MATCH_DOSSIER_CHECK)")
	fs.IntVar(&c.SignupsPerAddress, "signups-per-address", envInt("SIGNUPS_PER_ADDRESS", 30), "sign-ups per hour from one client address (SIGNUPS_PER_ADDRESS)")
	fs.IntVar(&c.SignupsPerEmail, "signups-per-email", envInt("SIGNUPS_PER_EMAIL", 3), "sign-ups per hour for one email (SIGNUPS_PER_EMAIL)")
	fs.StringVar(&c.FingerprintKey, "fingerprint-key", env("FINGERPRINT_KEY", "development-only-fingerprint-key"), "HMAC key for ID document numbers (FINGERPRINT_KEY)")
	fs.StringVar(&c.review, "town-hall-review", env("TOWN_HALL_REVIEW", "manual"), "manual (2021 flow) or automatic (REU, since 2022) (TOWN_HALL_REVIEW)")
	p := dossier.DefaultPolicy()
	fs.DurationVar(&c.Policy.PoliceFirstReminder, "reminder-police-first", envDuration("REMINDER_POLICE_FIRST", p.PoliceFirstReminder), "first reminder to visit the police (REMINDER_POLICE_FIRST)")
	fs.DurationVar(&c.Policy.PoliceReminderEvery, "reminder-police-every", envDuration("REMINDER_POLICE_EVERY", p.PoliceReminderEvery), "then every (REMINDER_POLICE_EVERY)")
	fs.DurationVar(&c.Policy.BeforeRoundReminder, "reminder-before-round", envDuration("REMINDER_BEFORE_ROUND", p.BeforeRoundReminder), "reminder before the first round (REMINDER_BEFORE_ROUND)")
	fs.DurationVar(&c.Policy.TownHallFirstReminder, "reminder-town-hall-first", envDuration("REMINDER_TOWN_HALL_FIRST", p.TownHallFirstReminder), "first reminder to the town hall (REMINDER_TOWN_HALL_FIRST)")
	fs.DurationVar(&c.Policy.TownHallReminderEvery, "reminder-town-hall-every", envDuration("REMINDER_TOWN_HALL_EVERY", p.TownHallReminderEvery), "then every (REMINDER_TOWN_HALL_EVERY)")
	fs.StringVar(&c.DocsAssets, "docs-assets", env("DOCS_ASSETS", ""), "folder with the /docs renderer, for closed networks; empty: a CDN (DOCS_ASSETS)")
	fs.StringVar(&c.LogLevel, "log-level", env("LOG_LEVEL", "info"), "debug, info, warn or error (LOG_LEVEL)")
}

// Finish validates what flags alone cannot and fills derived values.
func (c *Config) Finish() error {
	review, err := dossier.ParseReviewMode(c.review)
	if err != nil {
		return err
	}
	c.Policy.Review = review
	for name, d := range map[string]time.Duration{
		"reminder-police-first": c.Policy.PoliceFirstReminder, "reminder-police-every": c.Policy.PoliceReminderEvery,
		"reminder-town-hall-first": c.Policy.TownHallFirstReminder, "reminder-town-hall-every": c.Policy.TownHallReminderEvery,
	} {
		if d <= 0 {
			return fmt.Errorf("--%s must be positive", name)
		}
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.DevIssuer {
		c.AgentIssuers = append(c.AgentIssuers, c.PublicURL)
		c.GrantorIssuers = append(c.GrantorIssuers, c.PublicURL)
	}
	return nil
}

// TemporalOptions are the client options for the configured cluster.
func (c *Config) TemporalOptions() client.Options {
	opts := client.Options{HostPort: c.TemporalAddress, Namespace: c.TemporalNamespace}
	if c.TemporalAPIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(c.TemporalAPIKey)
	}
	if c.TemporalTLS || c.TemporalAPIKey != "" {
		opts.ConnectionOptions.TLS = tlsConfig()
	}
	return opts
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

func envBool(key string, def bool) bool {
	if b, err := strconv.ParseBool(os.Getenv(key)); err == nil {
		return b
	}
	return def
}

func envInt(key string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return n
	}
	return def
}

func envDuration(key string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(key)); err == nil {
		return d
	}
	return def
}

func envList(key string) []string {
	v := os.Getenv(key)
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}
