// Package auth verifies the portals' bearer tokens against OpenID issuers
// (discovery + JWKS) and, in development, is its own issuer.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Roles an agent token carries; a token without a role from a FranceConnect
// issuer is a grantor's.
const (
	RoleGrantor    = "grantor"
	RolePolice     = "police"
	RoleTownHall   = "town_hall"
	RoleBackOffice = "back_office"
	RoleSupport    = "support"
	RoleRequester  = "requester"
	RoleVolunteer  = "volunteer"
)

// Claims are the token claims the API uses (contract.md, "Identity").
type Claims struct {
	Issuer     string   `json:"iss"`
	Subject    string   `json:"sub"`
	Role       string   `json:"role,omitempty"`
	GivenName  string   `json:"given_name,omitempty"`
	FamilyName string   `json:"family_name,omitempty"`
	Birthdate  string   `json:"birthdate,omitempty"`
	Gender     string   `json:"gender,omitempty"`
	Email      string   `json:"email,omitempty"`
	ACR        string   `json:"acr,omitempty"`
	Rank       string   `json:"rank,omitempty"`
	Unit       string   `json:"unit,omitempty"`
	Communes   []string `json:"communes,omitempty"`
	Campaigns  []string `json:"campaigns,omitempty"`
	// BirthPlace and BirthCountry are the INSEE codes of the identité
	// pivot (FranceConnect).
	BirthPlace   string `json:"birthplace,omitempty"`
	BirthCountry string `json:"birthcountry,omitempty"`
	// What ProConnect says of an agent's organisation; usual_name is their
	// family name there.
	UsualName         string `json:"usual_name,omitempty"`
	Siret             string `json:"siret,omitempty"`
	OrganizationLabel string `json:"organization_label,omitempty"`
	// Admin marks a town hall agent who may invite the commune's agents;
	// it comes from the agent's rights, never from a token.
	Admin bool `json:"-"`
	// Asserted marks a role and its scope that a token of an issuer trusted
	// to assert them carried (a service client of the JSON API), rather than
	// the agents' rights.
	Asserted bool `json:"-"`
	// Campaign is the campaign a link token was issued for.
	Campaign string `json:"campaign,omitempty"`
	// Purpose and Object bind a link token to one action on one object.
	Purpose string `json:"purpose,omitempty"`
	Object  string `json:"obj,omitempty"`
}

// Identity is who the token names: a subject is unique only within its
// issuer, so every record keys people by the pair.
func (c Claims) Identity() string {
	if c.Subject == "" {
		return ""
	}
	return c.Issuer + "|" + c.Subject
}

// Link purposes: what a link in an email lets its holder do, on one object.
const (
	PurposeConfirmSignup = "confirm-signup"
	PurposeAnswerOffer   = "answer-offer"
	PurposeMatch         = "match"
)

// Allows reports whether a link token may do purpose on object. Tokens of
// the identity providers carry no purpose and are not links.
func (c Claims) Allows(purpose, object string) bool {
	return c.Purpose == purpose && c.Object == object
}

// RunsCampaign reports whether a back office agent works for the campaign.
func (c Claims) RunsCampaign(id string) bool { return slices.Contains(c.Campaigns, id) }

// DigitalIdentity reports a certified digital identity (France Identité
// through FranceConnect+), which stands in for the police visit.
func (c Claims) DigitalIdentity() bool { return c.ACR == "eidas2" || c.ACR == "eidas3" }

// ServesCommune reports whether a town hall agent acts for the commune.
func (c Claims) ServesCommune(code string) bool { return slices.Contains(c.Communes, code) }

// Verifier checks tokens from the configured issuers. Each issuer is
// discovered on its own, with a timeout, and a failed discovery is retried
// with back-off: a slow provider stalls only its own tokens, and a provider
// that is down makes the API answer 503, not log everyone out.
type Verifier struct {
	audience       string
	agentIssuers   []string
	grantorIssuers []string

	// linkIssuers sign the links of matching emails: requester and volunteer tokens only.
	linkIssuers []string

	mu        sync.Mutex
	providers map[string]*provider
	// discovery bounds one discovery; tests shorten it.
	discovery time.Duration
}

type provider struct {
	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier
	err      error
	retry    time.Time
	backoff  time.Duration
}

// TrustLinks accepts requester and volunteer tokens from issuer.
func (v *Verifier) TrustLinks(issuer string) { v.linkIssuers = append(v.linkIssuers, issuer) }

// NewVerifier trusts agent tokens from agentIssuers and grantor tokens from
// grantorIssuers. Discovery happens at the first token of each issuer, so a
// server can be its own issuer.
func NewVerifier(audience string, agentIssuers, grantorIssuers []string) *Verifier {
	return &Verifier{audience: audience, agentIssuers: agentIssuers, grantorIssuers: grantorIssuers,
		providers: map[string]*provider{}, discovery: 5 * time.Second}
}

// ErrInvalidToken covers every reason a token is refused.
var ErrInvalidToken = errors.New("invalid token")

// ErrProviderUnavailable means the token could not be checked: its issuer
// did not answer. The caller should retry later.
var ErrProviderUnavailable = errors.New("identity provider unavailable")

func (v *Verifier) Verify(ctx context.Context, raw string) (Claims, error) {
	issuer, err := unverifiedIssuer(raw)
	if err != nil {
		return Claims{}, err
	}
	agent, grantor := slices.Contains(v.agentIssuers, issuer), slices.Contains(v.grantorIssuers, issuer)
	link := slices.Contains(v.linkIssuers, issuer)
	if !agent && !grantor && !link {
		return Claims{}, fmt.Errorf("%w: issuer %q is not trusted", ErrInvalidToken, issuer)
	}
	verifier, err := v.verifier(ctx, issuer)
	if err != nil {
		return Claims{}, err
	}
	token, err := verifier.Verify(ctx, raw)
	if err != nil {
		if keysUnreachable(err) {
			return Claims{}, fmt.Errorf("%w: %v", ErrProviderUnavailable, err)
		}
		return Claims{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	var c Claims
	if err := token.Claims(&c); err != nil {
		return Claims{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	switch {
	case c.Role == "" && grantor && c.Purpose == "":
		c.Role = RoleGrantor
	case (c.Role == RoleRequester || c.Role == RoleVolunteer) && link:
	case c.Role != "" && c.Role != RoleGrantor && c.Role != RoleRequester && c.Role != RoleVolunteer && agent && c.Purpose == "":
		c.Asserted = true
	default:
		return Claims{}, fmt.Errorf("%w: role %q not accepted from %s", ErrInvalidToken, c.Role, issuer)
	}
	if c.Subject == "" {
		return Claims{}, fmt.Errorf("%w: no sub", ErrInvalidToken)
	}
	return c, nil
}

// keysUnreachable tells a key set that could not be fetched from a bad
// signature.
func keysUnreachable(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "fetching keys") || strings.Contains(msg, "failed to fetch") || strings.Contains(msg, "get keys")
}

func (v *Verifier) verifier(ctx context.Context, issuer string) (*oidc.IDTokenVerifier, error) {
	v.mu.Lock()
	p, ok := v.providers[issuer]
	if !ok {
		p = &provider{}
		v.providers[issuer] = p
	}
	v.mu.Unlock()

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.verifier != nil {
		return p.verifier, nil
	}
	if time.Now().Before(p.retry) {
		return nil, fmt.Errorf("%w: %s: %v", ErrProviderUnavailable, issuer, p.err)
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), v.discovery)
	defer cancel()
	// The provider outlives this request: its key set refreshes in the
	// background with the same client, bounded in time.
	dctx = oidc.ClientContext(dctx, &http.Client{Timeout: v.discovery})
	prov, err := oidc.NewProvider(dctx, issuer)
	if err != nil {
		p.backoff = min(max(2*p.backoff, time.Second), 5*time.Minute)
		p.err, p.retry = err, time.Now().Add(p.backoff)
		return nil, fmt.Errorf("%w: discovery of %s: %v", ErrProviderUnavailable, issuer, err)
	}
	keys := oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), &http.Client{Timeout: v.discovery}), jwksURL(prov))
	p.verifier = oidc.NewVerifier(issuer, keys, &oidc.Config{ClientID: v.audience, SupportedSigningAlgs: []string{"RS256", "ES256"}})
	p.err, p.backoff = nil, 0
	return p.verifier, nil
}

func jwksURL(p *oidc.Provider) string {
	var doc struct {
		JWKS string `json:"jwks_uri"`
	}
	_ = p.Claims(&doc)
	return doc.JWKS
}

func unverifiedIssuer(raw string) (string, error) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	var c struct {
		Issuer string `json:"iss"`
	}
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	return c.Issuer, nil
}

// ParseClaim turns a --claim key=value into a claim; a list claim's value
// is comma-separated.
func ParseClaim(kv string) (string, any, error) {
	key, value, ok := strings.Cut(kv, "=")
	if !ok || key == "" {
		return "", nil, fmt.Errorf("--claim %q: want key=value", kv)
	}
	if key == "communes" || key == "campaigns" || strings.Contains(value, ",") {
		return key, strings.Split(value, ","), nil
	}
	return key, value, nil
}
