package config

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/procurations/procuration/internal/testenv"
)

// A TLS setting that would fail the first connection stops the process at
// start, naming the variable, rather than as a dial error retried forever.
func TestTemporalTLSFilesAreCheckedAtStart(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	front := testenv.StartTLSFront(t, "127.0.0.1:1", true)
	for name, c := range map[string]struct {
		env  map[string]string
		want []string
	}{
		"missing CA":         {map[string]string{"TEMPORAL_TLS_CA": missing}, []string{"TEMPORAL_TLS_CA=", "missing.pem", "no such file"}},
		"CA without a cert":  {map[string]string{"TEMPORAL_TLS_CA": notPEM}, []string{"TEMPORAL_TLS_CA=", "no certificate"}},
		"cert without key":   {map[string]string{"TEMPORAL_TLS_CERT": front.ClientCert}, []string{"TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY"}},
		"key without cert":   {map[string]string{"TEMPORAL_TLS_KEY": front.ClientKey}, []string{"TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY"}},
		"missing cert":       {map[string]string{"TEMPORAL_TLS_CERT": missing, "TEMPORAL_TLS_KEY": front.ClientKey}, []string{"TEMPORAL_TLS_CERT=", "no such file"}},
		"missing key":        {map[string]string{"TEMPORAL_TLS_CERT": front.ClientCert, "TEMPORAL_TLS_KEY": missing}, []string{"TEMPORAL_TLS_KEY=", "no such file"}},
		"key of another":     {map[string]string{"TEMPORAL_TLS_CERT": front.CA, "TEMPORAL_TLS_KEY": front.ClientKey}, []string{"TEMPORAL_TLS_CERT=", "private key"}},
		"cert is not PEM":    {map[string]string{"TEMPORAL_TLS_CERT": notPEM, "TEMPORAL_TLS_KEY": front.ClientKey}, []string{"TEMPORAL_TLS_CERT=", "not.pem"}},
		"deployment has dot": {map[string]string{"WORKER_DEPLOYMENT": "procuration.v2"}, []string{"WORKER_DEPLOYMENT="}},
		"deployment blank":   {map[string]string{"WORKER_DEPLOYMENT": " "}, []string{"WORKER_DEPLOYMENT="}},
		"build id has space": {map[string]string{"BUILD_ID": "release 4"}, []string{"BUILD_ID="}},
		"promote unknown":    {map[string]string{"WORKER_PROMOTE": "sometimes"}, []string{"WORKER_PROMOTE="}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := load(t, c.env, []string{RoleWorker})
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
		})
	}
}

func TestTemporalOptions(t *testing.T) {
	front := testenv.StartTLSFront(t, "127.0.0.1:1", true)
	t.Run("dev server: plain", func(t *testing.T) {
		c, err := load(t, nil, []string{RoleAll})
		if err != nil {
			t.Fatal(err)
		}
		opts, err := c.TemporalOptions()
		if err != nil || opts.ConnectionOptions.TLS != nil || opts.Credentials != nil {
			t.Fatalf("%v %+v", err, opts.ConnectionOptions.TLS)
		}
	})
	t.Run("mTLS", func(t *testing.T) {
		c, err := load(t, map[string]string{"TEMPORAL_TLS_CA": front.CA, "TEMPORAL_TLS_CERT": front.ClientCert, "TEMPORAL_TLS_KEY": front.ClientKey,
			"TEMPORAL_TLS_SERVER_NAME": front.ServerName}, []string{RoleAll})
		if err != nil {
			t.Fatal(err)
		}
		opts, err := c.TemporalOptions()
		if err != nil {
			t.Fatal(err)
		}
		tc := opts.ConnectionOptions.TLS
		if tc == nil || tc.RootCAs == nil || len(tc.Certificates) != 1 || tc.ServerName != front.ServerName || opts.Credentials != nil {
			t.Fatalf("%+v", tc)
		}
	})
	t.Run("Temporal Cloud API key implies TLS with the system's CAs", func(t *testing.T) {
		c, err := load(t, map[string]string{"TEMPORAL_API_KEY": "key"}, []string{RoleAll})
		if err != nil {
			t.Fatal(err)
		}
		opts, err := c.TemporalOptions()
		if err != nil || opts.Credentials == nil || opts.ConnectionOptions.TLS == nil || opts.ConnectionOptions.TLS.RootCAs != nil {
			t.Fatalf("%v %+v", err, opts)
		}
	})
}

func TestVersioningDefaults(t *testing.T) {
	c, err := load(t, nil, []string{RoleWorker})
	if err != nil {
		t.Fatal(err)
	}
	// A test binary carries no VCS stamp: its digest names it.
	if !strings.HasPrefix(c.Versioning.BuildID, "sha-") || len(c.Versioning.BuildID) != len("sha-")+12 || c.Versioning.BuildID != RevisionBuildID() {
		t.Fatalf("%+v", c.Versioning)
	}
	c.Versioning.BuildID = ""
	if c.Versioning != (Versioning{Enabled: true, Deployment: "procuration", Promote: "initial"}) {
		t.Fatalf("%+v", c.Versioning)
	}
	c, err = load(t, map[string]string{"BUILD_ID": "2027-03-r2", "WORKER_VERSIONING": "false"}, []string{RoleWorker})
	if err != nil || c.Versioning.Enabled || c.Versioning.BuildID != "2027-03-r2" {
		t.Fatalf("%v %+v", err, c.Versioning)
	}
}

// Against the dev server behind a TLS front that requires a client
// certificate of its CA: the configured client gets through; without the
// certificate, or trusting another CA, it does not.
func TestTemporalOverMutualTLS(t *testing.T) {
	if testing.Short() && !testenv.Required() {
		t.Skip("integration test")
	}
	address := testenv.Temporal(t)
	front := testenv.StartTLSFront(t, address, true)
	other := testenv.StartTLSFront(t, address, true)
	dial := func(env map[string]string) error {
		// Each dial names every TLS variable: the test's environment keeps
		// what an earlier dial set.
		for _, k := range []string{"TEMPORAL_TLS_CA", "TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY", "TEMPORAL_TLS_SERVER_NAME", "TEMPORAL_API_KEY"} {
			if _, ok := env[k]; !ok {
				env[k] = ""
			}
		}
		env["TEMPORAL_ADDRESS"] = front.Addr
		c, err := load(t, env, []string{RoleAll})
		if err != nil {
			t.Fatal(err)
		}
		opts, err := c.TemporalOptions()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		opts.ConnectionOptions.GetSystemInfoTimeout = 3 * time.Second
		tc, err := client.DialContext(ctx, opts)
		if err != nil {
			return err
		}
		defer tc.Close()
		_, err = tc.CheckHealth(ctx, &client.CheckHealthRequest{})
		return err
	}
	before := front.Handshakes()
	if err := dial(map[string]string{"TEMPORAL_TLS_CA": front.CA, "TEMPORAL_TLS_CERT": front.ClientCert, "TEMPORAL_TLS_KEY": front.ClientKey,
		"TEMPORAL_TLS_SERVER_NAME": front.ServerName}); err != nil {
		t.Fatalf("mTLS refused: %v", err)
	}
	if front.Handshakes() == before {
		t.Fatal("the client went around the TLS front")
	}
	// An API key rides on the same TLS connection (the dev server ignores it).
	if err := dial(map[string]string{"TEMPORAL_TLS_CA": front.CA, "TEMPORAL_TLS_CERT": front.ClientCert, "TEMPORAL_TLS_KEY": front.ClientKey,
		"TEMPORAL_TLS_SERVER_NAME": front.ServerName, "TEMPORAL_API_KEY": "test-key"}); err != nil {
		t.Fatalf("mTLS with an API key refused: %v", err)
	}
	for name, env := range map[string]map[string]string{
		"no client certificate":   {"TEMPORAL_TLS_CA": front.CA, "TEMPORAL_TLS_SERVER_NAME": front.ServerName},
		"another CA's client":     {"TEMPORAL_TLS_CA": front.CA, "TEMPORAL_TLS_CERT": other.ClientCert, "TEMPORAL_TLS_KEY": other.ClientKey, "TEMPORAL_TLS_SERVER_NAME": front.ServerName},
		"trusting another CA":     {"TEMPORAL_TLS_CA": other.CA, "TEMPORAL_TLS_CERT": front.ClientCert, "TEMPORAL_TLS_KEY": front.ClientKey, "TEMPORAL_TLS_SERVER_NAME": front.ServerName},
		"another server name":     {"TEMPORAL_TLS_CA": front.CA, "TEMPORAL_TLS_CERT": front.ClientCert, "TEMPORAL_TLS_KEY": front.ClientKey, "TEMPORAL_TLS_SERVER_NAME": "elsewhere.test"},
		"plain to a TLS frontend": {},
	} {
		t.Run(name, func(t *testing.T) {
			if err := dial(env); err == nil {
				t.Fatal("connected")
			}
		})
	}
}
