package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/service"
	"github.com/procurations/procuration/internal/store"
)

// With PostgreSQL and Temporal both unreachable, /healthz says so: 503,
// Retry-After, and which dependency is down.
func TestHealthReportsDependenciesDown(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), "postgres://postgres@127.0.0.1:1/none?connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	tc, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	h, _ := New(Deps{Service: service.New(service.Service{Store: store.New(pool), Temporal: tc}), Log: zap.NewNop(), Verifier: auth.NewVerifier("procuration", nil, nil)})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	for _, want := range []string{"temporal=unavailable", "postgres=unavailable", "application/problem+json"} {
		if !strings.Contains(rec.Body.String()+rec.Header().Get("Content-Type"), want) {
			t.Errorf("health answer lacks %q: %s", want, rec.Body.String())
		}
	}
}
