package api

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/procurations/procuration/internal/auth"
)

func TestDocsServedWithoutCDN(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "web-components.min.js"), []byte("/* renderer */"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, _ := New(Deps{Log: zap.NewNop(), Verifier: auth.NewVerifier("procuration", nil, nil), DocsAssets: dir})
	for path, want := range map[string]string{
		"/docs":                              `src="/docs/assets/web-components.min.js"`,
		"/docs/assets/web-components.min.js": "renderer",
		"/openapi.json":                      `"/v1/procurations/{reference}/police-verification"`,
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("GET %s: %d, body lacks %s", path, rec.Code, want)
		}
		if strings.Contains(rec.Body.String(), "unpkg.com") {
			t.Errorf("GET %s still points at a CDN", path)
		}
	}
}

// Public: health, and what the matching sites' visitors do before they have
// any account. Everything else carries a bearer token (contract.md).
var publicOps = map[string]bool{"health": true, "ready": true, "signup-request": true, "signup-volunteer": true, "confirm-signup": true,
	"answer-match-link": true}

func TestEveryPortalOperationRequiresAToken(t *testing.T) {
	h, api := New(Deps{Log: zap.NewNop(), Verifier: auth.NewVerifier("procuration", nil, nil)})
	for path, item := range api.OpenAPI().Paths {
		for _, op := range []*struct{ method string }{{"GET"}, {"POST"}} {
			o := item.Get
			if op.method == "POST" {
				o = item.Post
			}
			if o == nil || publicOps[o.OperationID] {
				continue
			}
			if len(o.Security) == 0 {
				t.Errorf("%s %s has no security requirement", op.method, path)
			}
			rec := httptest.NewRecorder()
			url := strings.NewReplacer("{reference}", "K7M2QX", "{code}", "75056", "{campaign}", "c", "{id}", "x").Replace(path)
			h.ServeHTTP(rec, httptest.NewRequest(op.method, url, nil))
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("%s %s without a token: %d", op.method, path, rec.Code)
			}
		}
	}
}
