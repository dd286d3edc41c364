package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"go.temporal.io/sdk/client"
)

// TemporalOptions are the client options for the configured cluster: the
// dev server, a self-hosted cluster with mTLS, or Temporal Cloud with an
// API key, with no change of code.
func (c *Config) TemporalOptions() (client.Options, error) {
	t := c.Temporal
	opts := client.Options{HostPort: t.Address, Namespace: t.Namespace}
	if t.APIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(t.APIKey)
	}
	cfg, err := t.tlsConfig()
	if err != nil {
		return opts, err
	}
	opts.ConnectionOptions.TLS = cfg
	return opts, nil
}

// tlsConfig is nil for a plain connection (the dev server). An API key
// implies TLS: Temporal Cloud refuses it in clear, and it must not cross
// the network so.
func (t Temporal) tlsConfig() (*tls.Config, error) {
	if (t.ClientCert == "") != (t.ClientKey == "") {
		return nil, fmt.Errorf("TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together: both or neither expected")
	}
	if !t.TLS && t.APIKey == "" && t.ClientCert == "" && t.CACert == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CACert != "" {
		pem, err := os.ReadFile(t.CACert)
		if err != nil {
			return nil, fmt.Errorf("TEMPORAL_TLS_CA=%q: a readable PEM file expected (%v)", t.CACert, err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TEMPORAL_TLS_CA=%q: a PEM file expected (no certificate in it)", t.CACert)
		}
	}
	if t.ClientCert != "" {
		for env, path := range map[string]string{"TEMPORAL_TLS_CERT": t.ClientCert, "TEMPORAL_TLS_KEY": t.ClientKey} {
			if _, err := os.Stat(path); err != nil {
				return nil, fmt.Errorf("%s=%q: a readable PEM file expected (%v)", env, path, err)
			}
		}
		cert, err := tls.LoadX509KeyPair(t.ClientCert, t.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("TEMPORAL_TLS_CERT=%q, TEMPORAL_TLS_KEY=%q: a certificate and its private key expected (%v)",
				t.ClientCert, t.ClientKey, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// problems are the TLS settings that would fail the first connection,
// reported at start rather than as a retried dial error.
func (t Temporal) problems() []string {
	if _, err := t.tlsConfig(); err != nil {
		return []string{err.Error()}
	}
	return nil
}
