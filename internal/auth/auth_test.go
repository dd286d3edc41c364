package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// issuerServer serves an issuer's discovery and keys, as the API does.
func issuerServer(t *testing.T, audience string) *Issuer {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	url := "http://" + srv.Listener.Addr().String()
	iss, err := LoadOrCreateIssuer(url, audience, filepath.Join(t.TempDir(), "key.pem"), true)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	iss.Register(mux)
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return iss
}

func TestVerify(t *testing.T) {
	agents := issuerServer(t, "procuration")
	franceConnect := issuerServer(t, "procuration")
	other := issuerServer(t, "procuration")
	v := NewVerifier("procuration", []string{agents.URL}, []string{franceConnect.URL})
	ctx := context.Background()
	mint := func(i *Issuer, role string, extra map[string]any, ttl time.Duration) string {
		tok, err := i.Mint(role, "sub-1", extra, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	c, err := v.Verify(ctx, mint(franceConnect, RoleGrantor, map[string]any{"given_name": "Marie", "acr": "eidas2"}, time.Hour))
	if err != nil || c.Role != RoleGrantor || c.GivenName != "Marie" || !c.DigitalIdentity() {
		t.Fatalf("grantor token: %+v, %v", c, err)
	}
	c, err = v.Verify(ctx, mint(agents, RoleTownHall, map[string]any{"communes": []string{"75056", "69123"}}, time.Hour))
	if err != nil || c.Role != RoleTownHall || !c.ServesCommune("69123") || c.ServesCommune("13055") {
		t.Fatalf("town hall token: %+v, %v", c, err)
	}

	for name, tok := range map[string]string{
		"expired":                         mint(agents, RolePolice, nil, -time.Minute),
		"untrusted issuer":                mint(other, RolePolice, nil, time.Hour),
		"agent role from FranceConnect":   mint(franceConnect, RolePolice, nil, time.Hour),
		"grantor from the agents' issuer": mint(agents, RoleGrantor, nil, time.Hour),
		"signed by another key":           forge(mint(other, RolePolice, nil, time.Hour), mint(agents, RolePolice, nil, time.Hour)),
		"not a JWT":                       "abc.def",
	} {
		if c, err := v.Verify(ctx, tok); err == nil {
			t.Errorf("%s: accepted as %+v", name, c)
		}
	}
	wrongAudience := issuerServer(t, "another-service")
	v2 := NewVerifier("procuration", []string{wrongAudience.URL}, nil)
	if _, err := v2.Verify(ctx, mint(wrongAudience, RolePolice, nil, time.Hour)); err == nil {
		t.Error("token for another audience accepted")
	}
}

// forge puts good's header and payload before bad's signature.
func forge(bad, good string) string {
	g := strings.Split(good, ".")
	b := strings.Split(bad, ".")
	return g[0] + "." + g[1] + "." + b[2]
}

func TestParseClaim(t *testing.T) {
	k, v, err := ParseClaim("communes=75056,69123")
	if err != nil || k != "communes" || len(v.([]string)) != 2 {
		t.Fatalf("%s %v %v", k, v, err)
	}
	k, v, err = ParseClaim("unit=Commissariat du 11e")
	if err != nil || v != "Commissariat du 11e" {
		t.Fatalf("%s %v %v", k, v, err)
	}
	if _, _, err := ParseClaim("novalue"); err == nil {
		t.Error("accepted a claim without =")
	}
}
