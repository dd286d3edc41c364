package config

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func load(t *testing.T, env map[string]string, roles []string, args ...string) (*Config, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	var c Config
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	c.Register(fs, roles...)
	if err := fs.Parse(args); err != nil {
		return &c, err
	}
	return &c, c.Finish()
}

// A value that does not parse stops the process, naming the variable and
// what it expects; nothing falls back to a default.
func TestUnparsableValuesStopTheProcess(t *testing.T) {
	for env, want := range map[string]string{
		"REMINDER_POLICE_FIRST": "1d", "DEV_ISSUER": "flase", "SIGNUPS_PER_EMAIL": "three", "SIGNUPS_PER_ADDRESS": "30/h",
		"TOWN_HALL_REVIEW": "auto", "SMTP_TLS": "ssl", "TEMPORAL_ADDRESS": "nohost", "PUBLIC_URL": "example.org", "SMTP_PORT": "0",
		"OIDC_AGENT_ISSUERS": "not a url", "MATCH_DOSSIER_CHECK": "0s",
	} {
		t.Run(env, func(t *testing.T) {
			_, err := load(t, map[string]string{env: want}, []string{RoleAll})
			if err == nil || !strings.Contains(err.Error(), env+"=") || !strings.Contains(err.Error(), "expected") {
				t.Fatalf("%s=%s: %v", env, want, err)
			}
		})
	}
}

func TestBooleansInEveryUsualSpelling(t *testing.T) {
	for raw, want := range map[string]bool{"off": false, "no": false, "0": false, "FALSE": false, "on": true, "yes": true, "1": true} {
		t.Run(raw, func(t *testing.T) {
			c, err := load(t, map[string]string{"DEV_ISSUER": raw}, []string{RoleAPI})
			if err != nil || c.DevIssuer != want {
				t.Errorf("DEV_ISSUER=%s: %v %v", raw, c.DevIssuer, err)
			}
		})
	}
}

func TestTheDevelopmentIssuerIsOffUnlessAskedFor(t *testing.T) {
	c, err := load(t, nil, []string{RoleAPI})
	if err != nil || c.DevIssuer || len(c.AgentIssuers) != 0 {
		t.Fatalf("%v %v %v", err, c.DevIssuer, c.AgentIssuers)
	}
	c, err = load(t, nil, []string{RoleAPI}, "--dev-issuer")
	if err != nil || !c.DevIssuer || c.AgentIssuers[0] != c.PublicURL {
		t.Fatalf("%v %v %v", err, c.DevIssuer, c.AgentIssuers)
	}
}

// A production-looking deployment refuses the development issuer and the
// public development key.
func TestProductionRefusesDevelopmentShortcuts(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"declared":         {"ENVIRONMENT": "production", "FINGERPRINT_KEY": strings.Repeat("k", 32), "DEV_ISSUER": "true"},
		"public url":       {"PUBLIC_URL": "https://procuration.example.gouv.fr", "FINGERPRINT_KEY": strings.Repeat("k", 32), "DEV_ISSUER": "true"},
		"development key":  {"ENVIRONMENT": "production"},
		"too short a key":  {"FINGERPRINT_KEY": "short"},
		"cert without key": {"TEMPORAL_TLS_CERT": "/etc/cert.pem"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := load(t, env, []string{RoleAPI}); err == nil {
				t.Error("accepted")
			}
		})
	}
	t.Run("proper", func(t *testing.T) {
		if _, err := load(t, map[string]string{"ENVIRONMENT": "production", "PUBLIC_URL": "https://procuration.example.gouv.fr",
			"FINGERPRINT_KEY": strings.Repeat("k", 32)}, []string{RoleAPI}); err != nil {
			t.Errorf("a proper production configuration: %v", err)
		}
	})
}

// Each role reads only its settings: the API does not parse the worker's
// reminders, nor the worker the API's rate limits.
func TestEachRoleReadsOnlyItsSettings(t *testing.T) {
	t.Run("api", func(t *testing.T) {
		if _, err := load(t, map[string]string{"REMINDER_POLICE_FIRST": "1d"}, []string{RoleAPI}); err != nil {
			t.Errorf("the API read a worker setting: %v", err)
		}
	})
	t.Run("worker", func(t *testing.T) {
		if _, err := load(t, map[string]string{"SIGNUPS_PER_EMAIL": "three"}, []string{RoleWorker}); err != nil {
			t.Errorf("the worker read an API setting: %v", err)
		}
	})
	var c Config
	fs := pflag.NewFlagSet("api", pflag.ContinueOnError)
	c.Register(fs, RoleAPI)
	if fs.Lookup("reminder-police-first") != nil || fs.Lookup("smtp-host") != nil || fs.Lookup("http-addr") == nil {
		t.Error("the API's flags are not the API's settings")
	}
}

func TestACommandLineValueReplacesABadVariable(t *testing.T) {
	c, err := load(t, map[string]string{"SIGNUPS_PER_EMAIL": "three"}, []string{RoleAPI}, "--signups-per-email=4")
	if err != nil || c.SignupsPerEmail != 4 {
		t.Fatalf("%v %d", err, c.SignupsPerEmail)
	}
}

// The worker signs the links of its emails for the audience the API
// expects: a worker run on its own reads the same OIDC_AUDIENCE.
func TestTheWorkerSignsLinksForTheAPIsAudience(t *testing.T) {
	env := map[string]string{"OIDC_AUDIENCE": "procuration-test"}
	api, err := load(t, env, []string{RoleAPI})
	if err != nil {
		t.Fatal(err)
	}
	worker, err := load(t, env, []string{RoleWorker})
	if err != nil {
		t.Fatal(err)
	}
	if worker.Audience != api.Audience || worker.Audience != "procuration-test" {
		t.Fatalf("worker %q, API %q", worker.Audience, api.Audience)
	}
}
