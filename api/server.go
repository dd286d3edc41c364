// Package api is the HTTP API the portals call (shared/design/contract.md).
package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/internal/store"
)

// Deps is what the handlers need.
type Deps struct {
	Store     *store.Store
	Temporal  client.Client
	Verifier  *auth.Verifier
	Issuer    *auth.Issuer // nil outside development
	TaskQueue string
	Policy    dossier.Policy
	// FingerprintKey keys the hash of identity document numbers.
	FingerprintKey []byte
	Log            *zap.Logger
	Now            func() time.Time
	// DocsAssets is a folder holding the docs renderer; empty, /docs loads it from a CDN.
	DocsAssets string
	// MatchDossierCheck is how often a match reads its linked dossier.
	MatchDossierCheck time.Duration
	// Sign-ups accepted per hour from one client address, and for one email.
	SignupsPerAddress int
	SignupsPerEmail   int
}

const bearer = "bearer"

var secured = []map[string][]string{{bearer: {}}}

// New builds the HTTP handler: the API, its OpenAPI document, /healthz and,
// in development, the issuer's discovery endpoints.
func New(d Deps) (http.Handler, huma.API) {
	if d.Now == nil {
		d.Now = time.Now
	}
	mux := http.NewServeMux()
	config := huma.DefaultConfig("Procurations", "1.0.0")
	config.Info.Description = "Procurations de vote : demande du mandant, vérification par la police ou la gendarmerie, décision de la mairie."
	config.CreateHooks = nil // no $schema links in bodies: portals get exactly the contract's fields
	config.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		bearer: {Type: "http", Scheme: "bearer", BearerFormat: "JWT",
			Description: "OpenID Connect ID token: FranceConnect for grantors, the agents' identity provider for agents."},
	}
	if d.DocsAssets != "" {
		config.DocsPath = ""
		serveDocs(mux, config.Info.Title, d.DocsAssets)
	}
	api := humago.New(mux, config)
	api.UseMiddleware(authenticate(api, d.Verifier, d.Log), func(ctx huma.Context, next func(huma.Context)) {
		next(huma.WithValue(ctx, remoteKey{}, ctx.RemoteAddr()))
	})
	h := &handlers{Deps: d, perAddress: newLimiter(d.SignupsPerAddress, time.Hour), perEmail: newLimiter(d.SignupsPerEmail, time.Hour)}
	h.registerHealth(api)
	h.registerRegister(api)
	h.registerElections(api)
	h.registerProcurations(api)
	h.registerMatching(api)
	h.registerMatches(api)
	h.registerSignupLists(api)
	if d.Issuer != nil {
		d.Issuer.Register(mux)
	}
	registerLinkPages(mux)
	return withRecovery(d.Log, mux), api
}

type handlers struct {
	Deps
	perAddress, perEmail *limiter
}

type claimsKey struct{}

type remoteKey struct{}

// authenticate verifies the bearer token of every operation that declares
// the bearer scheme, and puts its claims in the request context.
func authenticate(api huma.API, v *auth.Verifier, log *zap.Logger) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		if len(ctx.Operation().Security) == 0 {
			next(ctx)
			return
		}
		raw, ok := strings.CutPrefix(ctx.Header("Authorization"), "Bearer ")
		if !ok || raw == "" {
			ctx.SetHeader("WWW-Authenticate", `Bearer realm="procuration"`)
			_ = huma.WriteErr(api, ctx, http.StatusUnauthorized, "Jeton d'authentification manquant.")
			return
		}
		claims, err := v.Verify(ctx.Context(), raw)
		if err != nil {
			log.Info("token refused", zap.String("operation", ctx.Operation().OperationID), zap.Error(err))
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

// requireRole answers 403 unless the caller has one of the roles.
func requireRole(ctx context.Context, roles ...string) (auth.Claims, error) {
	c := claimsFrom(ctx)
	for _, r := range roles {
		if c.Role == r {
			return c, nil
		}
	}
	return c, huma.Error403Forbidden("Votre rôle ne permet pas cette action.")
}

func withRecovery(log *zap.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				log.Error("panic in handler", zap.String("path", r.URL.Path), zap.Any("panic", v))
				http.Error(w, "erreur interne", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type healthOutput struct {
	RetryAfter string `header:"Retry-After"`
	Body       struct {
		Status   string `json:"status" example:"ok"`
		Temporal string `json:"temporal" example:"ok"`
		Postgres string `json:"postgres" example:"ok"`
	}
}

func (h *handlers) registerHealth(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "health", Method: http.MethodGet, Path: "/healthz", Tags: []string{"Service"},
		Summary: "Health: 200 when Temporal and PostgreSQL answer, 503 otherwise",
	}, func(ctx context.Context, _ *struct{}) (*healthOutput, error) {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		out := &healthOutput{}
		out.Body.Status, out.Body.Temporal, out.Body.Postgres = "ok", "ok", "ok"
		if err := h.Store.Ping(ctx); err != nil {
			out.Body.Status, out.Body.Postgres = "unavailable", "unavailable"
		}
		if _, err := h.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
			out.Body.Status, out.Body.Temporal = "unavailable", "unavailable"
		}
		if out.Body.Status != "ok" {
			return nil, huma.ErrorWithHeaders(
				huma.Error503ServiceUnavailable("Service indisponible : temporal="+out.Body.Temporal+", postgres="+out.Body.Postgres),
				http.Header{"Retry-After": {"5"}})
		}
		return out, nil
	})
}
