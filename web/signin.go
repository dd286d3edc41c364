package web

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/procurations/procuration/internal/auth"
)

// Provider is an identity provider the portals sign people in with.
type Provider struct {
	// Name is how pages and the session call it.
	Name         string
	Label        string
	Issuer       string
	ClientID     string
	ClientSecret string
	Scopes       []string
	// ACR is the level of guarantee asked (acr_values).
	ACR string
	// Encrypted: the ID token and the userinfo come encrypted to the
	// portal's key (FranceConnect+).
	Encrypted bool
	// Agents: it signs agents in (ProConnect); their rights come from here.
	Agents bool

	mu       sync.Mutex
	provider *oidc.Provider
	retry    time.Time
}

// Providers, by name.
const (
	FranceConnect     = "franceconnect"
	FranceConnectPlus = "franceconnect-plus"
	ProConnect        = "proconnect"
)

// GrantorScopes ask for the identité pivot and the email.
var GrantorScopes = []string{oidc.ScopeOpenID, "given_name", "family_name", "birthdate", "gender", "birthplace", "birthcountry", "email", "preferred_username"}

// AgentScopes ask ProConnect who the agent is and for whom they work.
var AgentScopes = []string{oidc.ScopeOpenID, "email", "given_name", "usual_name", "siret", "organizational_unit", "belonging_population"}

func (p *Provider) discover(ctx context.Context) (*oidc.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.provider != nil {
		return p.provider, nil
	}
	if time.Now().Before(p.retry) {
		return nil, errProviderDown
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	prov, err := oidc.NewProvider(oidc.ClientContext(ctx, httpClient), p.Issuer)
	if err != nil {
		p.retry = time.Now().Add(10 * time.Second)
		return nil, fmt.Errorf("%w: %v", errProviderDown, err)
	}
	p.provider = prov
	return prov, nil
}

var errProviderDown = errors.New("identity provider unavailable")

var httpClient = &http.Client{Timeout: 10 * time.Second}

func (p *Provider) oauth(prov *oidc.Provider, redirect string) *oauth2.Config {
	return &oauth2.Config{ClientID: p.ClientID, ClientSecret: p.ClientSecret, Endpoint: prov.Endpoint(), RedirectURL: redirect, Scopes: p.Scopes}
}

// encryptionKeys are the portal's keys, to which FranceConnect+ encrypts;
// the first is published, every one decrypts (rotation).
type encryptionKeys struct {
	keys []*rsa.PrivateKey
	ids  []string
}

// loadEncryptionKeys reads PEM files (comma-separated), creating the first
// one when create is set (development).
func loadEncryptionKeys(paths string, create bool) (*encryptionKeys, error) {
	k := &encryptionKeys{}
	for n, path := range strings.Split(paths, ",") {
		path = strings.TrimSpace(path)
		if path == "" {
			continue
		}
		key, id, err := auth.LoadRSAKey(path, create && n == 0)
		if err != nil {
			return nil, fmt.Errorf("PORTAL_ENCRYPTION_KEY: %w", err)
		}
		k.keys = append(k.keys, key)
		k.ids = append(k.ids, "enc-"+id)
	}
	return k, nil
}

// jwks is what the portal publishes for providers to encrypt to.
func (k *encryptionKeys) jwks() jose.JSONWebKeySet {
	var set jose.JSONWebKeySet
	for i, key := range k.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &key.PublicKey, KeyID: k.ids[i], Algorithm: string(jose.RSA_OAEP_256), Use: "enc"})
	}
	return set
}

// decrypt opens a JWE addressed to one of the portal's keys.
func (k *encryptionKeys) decrypt(raw string) (string, error) {
	obj, err := jose.ParseEncrypted(raw, []jose.KeyAlgorithm{jose.RSA_OAEP, jose.RSA_OAEP_256},
		[]jose.ContentEncryption{jose.A256GCM, jose.A128GCM, jose.A256CBC_HS512})
	if err != nil {
		return "", err
	}
	for _, key := range k.keys {
		if plain, err := obj.Decrypt(key); err == nil {
			return string(plain), nil
		}
	}
	return "", errors.New("encrypted to no key of this portal")
}

// signedIn is what a provider said of the person, after every check.
type signedIn struct {
	Claims  auth.Claims
	IDToken string
}

// exchange redeems the callback's code: the ID token verified (signature,
// issuer, audience, expiry, nonce), then the userinfo, a signed JWT (also
// encrypted for FranceConnect+), verified the same way.
func (s *Server) exchange(ctx context.Context, p *Provider, login *pendingLogin, code string) (signedIn, error) {
	prov, err := p.discover(ctx)
	if err != nil {
		return signedIn{}, err
	}
	ctx = oidc.ClientContext(ctx, httpClient)
	tok, err := p.oauth(prov, s.callbackURL()).Exchange(ctx, code, oauth2.VerifierOption(login.Verifier))
	if err != nil {
		return signedIn{}, fmt.Errorf("code exchange: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if p.Encrypted {
		if raw, err = s.keys.decrypt(raw); err != nil {
			return signedIn{}, fmt.Errorf("ID token: %w", err)
		}
	}
	verifier := prov.Verifier(&oidc.Config{ClientID: p.ClientID, SupportedSigningAlgs: []string{"RS256", "ES256"}})
	idToken, err := verifier.Verify(ctx, raw)
	if err != nil {
		return signedIn{}, fmt.Errorf("ID token: %w", err)
	}
	if idToken.Nonce != login.Nonce {
		return signedIn{}, errors.New("ID token: nonce")
	}
	var c auth.Claims
	if err := idToken.Claims(&c); err != nil {
		return signedIn{}, err
	}
	info, err := s.userinfo(ctx, p, prov, tok)
	if err != nil {
		return signedIn{}, err
	}
	if info.Subject != c.Subject {
		return signedIn{}, errors.New("userinfo: another subject")
	}
	acr := c.ACR
	c = info
	c.Issuer, c.ACR = p.Issuer, acr
	return signedIn{Claims: c, IDToken: raw}, nil
}

func (s *Server) userinfo(ctx context.Context, p *Provider, prov *oidc.Provider, tok *oauth2.Token) (auth.Claims, error) {
	var doc struct {
		Userinfo string `json:"userinfo_endpoint"`
	}
	if err := prov.Claims(&doc); err != nil || doc.Userinfo == "" {
		return auth.Claims{}, errors.New("no userinfo endpoint")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, doc.Userinfo, nil)
	if err != nil {
		return auth.Claims{}, err
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	res, err := httpClient.Do(req)
	if err != nil {
		return auth.Claims{}, fmt.Errorf("%w: userinfo: %v", errProviderDown, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil || res.StatusCode != http.StatusOK {
		return auth.Claims{}, fmt.Errorf("userinfo: %d %v", res.StatusCode, err)
	}
	var c auth.Claims
	media, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if media != "application/jwt" {
		if p.Encrypted {
			return c, errors.New("userinfo: FranceConnect+ answers an encrypted JWT")
		}
		return c, json.Unmarshal(body, &c)
	}
	raw := strings.TrimSpace(string(body))
	if p.Encrypted {
		if raw, err = s.keys.decrypt(raw); err != nil {
			return c, fmt.Errorf("userinfo: %w", err)
		}
	}
	// The userinfo is signed by the provider for this client, like the ID
	// token; it may carry no expiry.
	verifier := prov.Verifier(&oidc.Config{ClientID: p.ClientID, SupportedSigningAlgs: []string{"RS256", "ES256"}, SkipExpiryCheck: true})
	signed, err := verifier.Verify(ctx, raw)
	if err != nil {
		return c, fmt.Errorf("userinfo: %w", err)
	}
	return c, signed.Claims(&c)
}

// endSessionURL is where sign-out sends the browser, so that the
// provider's session ends too.
func (s *Server) endSessionURL(ctx context.Context, p *Provider, idToken string) string {
	prov, err := p.discover(ctx)
	if err != nil {
		return "/deconnexion/fin"
	}
	var doc struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := prov.Claims(&doc); err != nil || doc.EndSession == "" {
		return "/deconnexion/fin"
	}
	q := url.Values{"id_token_hint": {idToken}, "state": {randomToken(16)}, "post_logout_redirect_uri": {s.signedOutURL()}}
	return doc.EndSession + "?" + q.Encode()
}

func (s *Server) callbackURL() string { return s.PublicURL + "/connexion/retour" }

// signedOutURL is where the providers send the browser back after sign-out.
func (s *Server) signedOutURL() string { return s.PublicURL + "/deconnexion/fin" }
