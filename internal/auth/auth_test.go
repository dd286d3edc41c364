package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
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

// A provider that stalls makes its own tokens unverifiable for a while,
// with a 503-class error, and stalls no other issuer.
func TestAStalledProviderStallsOnlyItself(t *testing.T) {
	good := issuerServer(t, "procuration")
	stall := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-stall }))
	t.Cleanup(func() { close(stall); slow.Close() })
	v := NewVerifier("procuration", []string{good.URL, slow.URL}, nil)
	v.discovery = 300 * time.Millisecond
	slowIssuer, err := LoadOrCreateIssuer(slow.URL, "procuration", filepath.Join(t.TempDir(), "k.pem"), true)
	if err != nil {
		t.Fatal(err)
	}
	slowTok, _ := slowIssuer.Mint(RolePolice, "p", nil, time.Hour)
	goodTok, _ := good.Mint(RolePolice, "p", nil, time.Hour)

	done := make(chan error, 1)
	go func() { _, err := v.Verify(context.Background(), slowTok); done <- err }()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	if _, err := v.Verify(context.Background(), goodTok); err != nil || time.Since(start) > 200*time.Millisecond {
		t.Fatalf("the good issuer waited for the slow one: %v after %s", err, time.Since(start))
	}
	if err := <-done; !errors.Is(err, ErrProviderUnavailable) {
		t.Fatalf("a stalled provider: %v", err)
	}
	start = time.Now()
	if _, err := v.Verify(context.Background(), slowTok); !errors.Is(err, ErrProviderUnavailable) || time.Since(start) > 50*time.Millisecond {
		t.Fatalf("the failure is not remembered for its back-off: %v after %s", err, time.Since(start))
	}
}

// Keys rotate with an overlap: tokens of the previous key verify while it
// is listed; production never makes a key up.
func TestIssuerKeysRotate(t *testing.T) {
	dir := t.TempDir()
	oldKey, newKey := filepath.Join(dir, "old.pem"), filepath.Join(dir, "new.pem")
	srv := httptest.NewUnstartedServer(nil)
	url := "http://" + srv.Listener.Addr().String()
	before, err := LoadOrCreateIssuer(url, "procuration", oldKey, true)
	if err != nil {
		t.Fatal(err)
	}
	oldTok, _ := before.Mint(RoleRequester, "r-1", map[string]any{"purpose": PurposeMatch, "obj": "m-1"}, time.Hour)
	if _, err := LoadOrCreateIssuer(url, "procuration", newKey+","+oldKey, false); err == nil {
		t.Fatal("production made a key up")
	}
	if _, err := LoadOrCreateIssuer(url, "procuration", newKey, true); err != nil {
		t.Fatal(err)
	}
	after, err := LoadOrCreateIssuer(url, "procuration", newKey+","+oldKey, false)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	after.Register(mux)
	srv.Config.Handler = mux
	srv.Start()
	defer srv.Close()
	v := NewVerifier("procuration", nil, nil)
	v.TrustLinks(url)
	newTok, _ := after.Mint(RoleRequester, "r-1", map[string]any{"purpose": PurposeMatch, "obj": "m-1"}, time.Hour)
	for name, tok := range map[string]string{"old key": oldTok, "new key": newTok} {
		c, err := v.Verify(context.Background(), tok)
		if err != nil || !c.Allows(PurposeMatch, "m-1") || c.Allows(PurposeMatch, "m-2") {
			t.Errorf("%s: %+v %v", name, c, err)
		}
	}
}

// Tokens that must never pass: no signature, a symmetric signature made
// with the public key, a link token asserting an agent's role.
func TestForgedTokensAreRefused(t *testing.T) {
	iss := issuerServer(t, "procuration")
	v := NewVerifier("procuration", []string{iss.URL}, []string{iss.URL})
	v.TrustLinks(iss.URL)
	good, _ := iss.Mint(RoleSupport, "s", nil, time.Hour)
	parts := strings.Split(good, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	pub, _ := json.Marshal(iss.keys[0].key.PublicKey)
	mac := hmac.New(sha256.New, pub)
	hsHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	mac.Write([]byte(hsHeader + "." + parts[1]))
	hs := hsHeader + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	linkAgent, _ := iss.Mint(RoleSupport, "s", map[string]any{"purpose": PurposeMatch, "obj": "m-1"}, time.Hour)
	for name, tok := range map[string]string{"alg none": none, "HS256 with the public key": hs, "a link claiming a role": linkAgent} {
		if c, err := v.Verify(context.Background(), tok); err == nil {
			t.Errorf("%s: accepted as %+v", name, c)
		}
	}
}
