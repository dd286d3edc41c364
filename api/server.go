// Package api is the JSON transport the portals call (shared/design/
// contract.md): it decodes a request, calls a use case of internal/service
// and encodes the answer. No business rule lives here.
package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"go.uber.org/zap"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/errs"
	"github.com/procurations/procuration/internal/logging"
	"github.com/procurations/procuration/internal/metrics"
	"github.com/procurations/procuration/internal/service"
)

// Deps is what the transport needs.
type Deps struct {
	Service  *service.Service
	Verifier *auth.Verifier
	// Mounts serve more routes on the same router: the issuer's discovery
	// documents, the development identity providers.
	Mounts []Mount
	// Pages are the HTML portals; the router's own failures on their paths
	// answer as pages to browsers.
	Pages Pages
	Log   *zap.Logger
	// PublicURL is the API's external URL, the server of the OpenAPI document.
	PublicURL string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client; from anyone else the header is ignored.
	TrustedProxies []*net.IPNet
	// DocsAssets is a folder holding the docs renderer; empty, /docs loads it from a CDN.
	DocsAssets string
	// Metrics counts requests and is served at /metrics; nil, neither.
	Metrics *metrics.Registry
}

// Mount is a set of routes served beside the API.
type Mount interface{ Register(mux *http.ServeMux) }

// Pages are the web portals.
type Pages interface {
	Mount
	Problem(w http.ResponseWriter, r *http.Request, status int, detail string)
}

const bearer = "bearer"

var (
	secured = []map[string][]string{{bearer: {}}}
	// public operations say so explicitly: no token expected.
	public = []map[string][]string{}
)

// New builds the HTTP handler: the API, its OpenAPI document, /healthz,
// /readyz, the pages behind the emails' links and, when the API is an
// issuer, its discovery endpoints.
func New(d Deps) (http.Handler, huma.API) {
	if d.Log == nil {
		d.Log = zap.NewNop()
	}
	mux := http.NewServeMux()
	config := huma.DefaultConfig("Procurations", "1.0.0")
	config.Info.Description = "Procurations de vote : demande du mandant, vérification par la police ou la gendarmerie, " +
		"décision de la mairie ; plateformes de mise en relation entre demandeurs et volontaires."
	config.Info.License = &huma.License{Name: "EUPL-1.2", URL: "https://interoperable-europe.ec.europa.eu/collection/eupl/eupl-text-eupl-12"}
	config.Info.Contact = &huma.Contact{Name: "Équipe Procurations", Email: "contact@procuration.example"}
	if d.PublicURL != "" {
		config.Servers = []*huma.Server{{URL: d.PublicURL, Description: "ce déploiement"}}
	}
	config.Tags = []*huma.Tag{
		{Name: "Service", Description: "Santé et disponibilité du service."},
		{Name: "Register", Description: "Le répertoire électoral : import de l'extrait, recherche du numéro d'électeur."},
		{Name: "Elections", Description: "Les scrutins et leurs tours."},
		{Name: "Procurations", Description: "La procédure officielle : demande, vérification, décision, résiliation."},
		{Name: "Matching", Description: "Les plateformes de mise en relation : campagnes, inscriptions, propositions, réponses."},
	}
	config.CreateHooks = nil // no $schema links in bodies: portals get exactly the contract's fields
	config.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		bearer: {Type: "http", Scheme: "bearer", BearerFormat: "JWT",
			Description: "Jeton OpenID Connect : FranceConnect pour les mandants, le fournisseur d'identité des agents pour les agents."},
	}
	if d.DocsAssets != "" {
		config.DocsPath = ""
		serveDocs(mux, config.Info.Title, d.DocsAssets)
	}
	api := humago.New(mux, config)
	h := &handlers{Deps: d, svc: d.Service}
	api.UseMiddleware(nameOperation, h.authenticate(api), func(ctx huma.Context, next func(huma.Context)) {
		next(huma.WithValue(ctx, remoteKey{}, clientAddress(ctx.RemoteAddr(), ctx.Header("X-Forwarded-For"), d.TrustedProxies)))
	})
	h.registerHealth(api, mux)
	h.registerRegister(api)
	h.registerProcurations(api)
	h.registerCampaigns(api)
	h.registerMatches(api)
	for _, m := range d.Mounts {
		m.Register(mux)
	}
	h.registerLinkPages(mux)
	if d.Metrics != nil {
		mux.Handle("GET /metrics", d.Metrics.Handler())
	}
	var pages func(http.ResponseWriter, *http.Request, int, string)
	if d.Pages != nil {
		d.Pages.Register(mux)
		pages = d.Pages.Problem
	}
	// Pages see the client's address as the API does, behind the same
	// trusted proxies.
	withClient := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := clientAddress(r.RemoteAddr, r.Header.Get("X-Forwarded-For"), d.TrustedProxies)
		routed := r.WithContext(service.WithClient(r.Context(), addr))
		mux.ServeHTTP(w, routed)
		namePattern(routed)
	})
	return observe(d.Log, d.Metrics, guard(d.Log, withClient, pages)), api
}

type handlers struct {
	Deps
	svc *service.Service
}

type claimsKey struct{}

type remoteKey struct{}

// authenticate verifies the bearer token of every operation that declares
// the bearer scheme, and puts its claims in the request context.
func (h *handlers) authenticate(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		if len(ctx.Operation().Security) == 0 {
			next(ctx)
			return
		}
		scheme, raw, _ := strings.Cut(ctx.Header("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
			ctx.SetHeader("WWW-Authenticate", `Bearer realm="procuration"`)
			_ = huma.WriteErr(api, ctx, http.StatusUnauthorized, "Jeton d'authentification manquant.")
			return
		}
		claims, err := h.Verifier.Verify(ctx.Context(), strings.TrimSpace(raw))
		if errors.Is(err, auth.ErrProviderUnavailable) {
			logging.Ctx(ctx.Context(), h.Log).Warn("identity provider unavailable", zap.String("operation", ctx.Operation().OperationID), zap.Error(err))
			ctx.SetHeader("Retry-After", "10")
			_ = huma.WriteErr(api, ctx, http.StatusServiceUnavailable, "Le fournisseur d'identité ne répond pas ; réessayez dans quelques instants.")
			return
		}
		if err != nil {
			logging.Ctx(ctx.Context(), h.Log).Info("token refused", zap.String("operation", ctx.Operation().OperationID), zap.Error(err))
			ctx.SetHeader("WWW-Authenticate", `Bearer realm="procuration", error="invalid_token"`)
			_ = huma.WriteErr(api, ctx, http.StatusUnauthorized, "Jeton d'authentification invalide ou expiré.")
			return
		}
		next(huma.WithValue(ctx, claimsKey{}, claims))
	}
}

func claimsFrom(ctx context.Context) auth.Claims {
	c, _ := ctx.Value(claimsKey{}).(auth.Claims)
	return c
}

func remoteFrom(ctx context.Context) string {
	r, _ := ctx.Value(remoteKey{}).(string)
	return r
}

// errorsOf lists what an operation may answer besides success: every
// operation may meet bad input and an unavailable dependency; secured ones
// also 401 and 403.
func errorsOf(security []map[string][]string, more ...int) []int {
	codes := []int{http.StatusUnprocessableEntity, http.StatusServiceUnavailable}
	if len(security) > 0 {
		codes = append(codes, http.StatusUnauthorized, http.StatusForbidden)
	}
	return append(codes, more...)
}

// tokenFailure answers a link's token that could not be checked: 503 when
// the issuer did not answer, 401 otherwise.
func (h *handlers) tokenFailure(err error, msg string) error {
	if errors.Is(err, auth.ErrProviderUnavailable) {
		return errs.ServiceUnavailable(err)
	}
	return errs.Unauthenticated(msg)
}

// fail is the transport's answer to a use case's failure.
func (h *handlers) fail(ctx context.Context, err error) error {
	e, ok := errs.As(err)
	if !ok {
		logging.Ctx(ctx, h.Log).Error("request failed", zap.Error(err))
		return huma.Error500InternalServerError("Erreur interne.")
	}
	return problem(e)
}
