// Package auth verifies the portals' bearer tokens against OpenID issuers
// (discovery + JWKS) and, in development, is its own issuer.
package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

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
	// Campaign is the campaign a link token was issued for.
	Campaign string `json:"campaign,omitempty"`
}

// RunsCampaign reports whether a back office agent works for the campaign.
func (c Claims) RunsCampaign(id string) bool { return slices.Contains(c.Campaigns, id) }

// DigitalIdentity reports a certified digital identity (France Identité
// through FranceConnect+), which stands in for the police visit.
func (c Claims) DigitalIdentity() bool { return c.ACR == "eidas2" || c.ACR == "eidas3" }

// ServesCommune reports whether a town hall agent acts for the commune.
func (c Claims) ServesCommune(code string) bool { return slices.Contains(c.Communes, code) }

// Verifier checks tokens from the configured issuers.
type Verifier struct {
	audience       string
	agentIssuers   []string
	grantorIssuers []string

	// linkIssuers sign the links of matching emails: requester and volunteer tokens only.
	linkIssuers []string

	mu        sync.Mutex
	verifiers map[string]*oidc.IDTokenVerifier
}

// TrustLinks accepts requester and volunteer tokens from issuer.
func (v *Verifier) TrustLinks(issuer string) { v.linkIssuers = append(v.linkIssuers, issuer) }

// NewVerifier trusts agent tokens from agentIssuers and grantor tokens from
// grantorIssuers. Discovery happens at the first token of each issuer, so a
// server can be its own issuer.
func NewVerifier(audience string, agentIssuers, grantorIssuers []string) *Verifier {
	return &Verifier{audience: audience, agentIssuers: agentIssuers, grantorIssuers: grantorIssuers,
		verifiers: map[string]*oidc.IDTokenVerifier{}}
}

// ErrInvalidToken covers every reason a token is refused.
var ErrInvalidToken = errors.New("invalid token")

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
		return Claims{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	var c Claims
	if err := token.Claims(&c); err != nil {
		return Claims{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	switch {
	case c.Role == "" && grantor:
		c.Role = RoleGrantor
	case (c.Role == RoleRequester || c.Role == RoleVolunteer) && link:
	case c.Role != "" && c.Role != RoleGrantor && agent:
	default:
		return Claims{}, fmt.Errorf("%w: role %q not accepted from %s", ErrInvalidToken, c.Role, issuer)
	}
	if c.Subject == "" {
		return Claims{}, fmt.Errorf("%w: no sub", ErrInvalidToken)
	}
	return c, nil
}

func (v *Verifier) verifier(ctx context.Context, issuer string) (*oidc.IDTokenVerifier, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if ver, ok := v.verifiers[issuer]; ok {
		return ver, nil
	}
	// The provider outlives this request: its key set refreshes in the background.
	provider, err := oidc.NewProvider(context.WithoutCancel(ctx), issuer)
	if err != nil {
		return nil, fmt.Errorf("OpenID discovery for %s: %w", issuer, err)
	}
	ver := provider.Verifier(&oidc.Config{ClientID: v.audience, SupportedSigningAlgs: []string{"RS256", "ES256"}})
	v.verifiers[issuer] = ver
	return ver, nil
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

// marshalClaims merges extra claims over the standard ones.
func marshalClaims(base map[string]any, extra map[string]any) ([]byte, error) {
	for k, v := range extra {
		base[k] = v
	}
	return json.Marshal(base)
}
