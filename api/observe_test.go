package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/metrics"
)

func get(h http.Handler, path string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// requestIDs are the request_id fields of the lines logged with message msg.
func requestIDs(logs *observer.ObservedLogs, msg string) []string {
	var ids []string
	for _, e := range logs.FilterMessage(msg).All() {
		ids = append(ids, e.ContextMap()["request_id"].(string))
	}
	return ids
}

func TestRequestIDKeptReplacedAndLogged(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	h, _ := New(Deps{Log: zap.New(core), Verifier: auth.NewVerifier("procuration", nil, nil)})

	// A well-formed incoming id is kept, echoed and on the request's lines.
	rec := get(h, "/v1/elections", "Authorization", "Bearer not-a-jwt", RequestIDHeader, "edge-7f3a9c1e-42")
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	require.Equal(t, "edge-7f3a9c1e-42", rec.Header().Get(RequestIDHeader))
	require.Equal(t, []string{"edge-7f3a9c1e-42"}, requestIDs(logs, "token refused"))

	// Anything else is replaced by a fresh id, the same in the answer and the logs.
	seen := map[string]bool{}
	for _, bad := range []string{"", "short", "has space inside", "line\nbreak-injected", strings.Repeat("a", 129), "-starts-with-dash"} {
		logs.TakeAll()
		rec := get(h, "/v1/elections", "Authorization", "Bearer not-a-jwt", RequestIDHeader, bad)
		id := rec.Header().Get(RequestIDHeader)
		require.Regexp(t, `^[0-9a-f]{32}$`, id, "%q replaced", bad)
		require.False(t, seen[id], "a fresh id per request")
		seen[id] = true
		require.Equal(t, []string{id}, requestIDs(logs, "token refused"))
		require.Equal(t, []string{id}, requestIDs(logs, "request"), "the access line")
	}
}

func TestPanicLoggedWithRequestID(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	log := zap.New(core)
	h := observe(log, nil, guard(log, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }), nil))
	rec := get(h, "/v1/anything", RequestIDHeader, "0123456789abcdef")
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	require.Equal(t, []string{"0123456789abcdef"}, requestIDs(logs, "panic in handler"))
}

// Requests are counted by operation id, or by route pattern, never by the
// path a client typed (it holds references).
func TestRequestsCountedByOperation(t *testing.T) {
	reg := metrics.New()
	h, _ := New(Deps{Log: zap.NewNop(), Verifier: auth.NewVerifier("procuration", nil, nil), Metrics: reg})
	for range 3 {
		require.Equal(t, http.StatusUnauthorized, get(h, "/v1/elections").Code)
	}
	require.Equal(t, http.StatusUnauthorized, get(h, "/v1/procurations/N3AX5S").Code)
	require.Equal(t, http.StatusNotFound, get(h, "/v1/procurations/N3AX5S/nothing-here").Code)
	require.Equal(t, http.StatusOK, get(h, "/metrics").Code)

	out := get(h, "/metrics").Body.String()
	require.Contains(t, out, `procuration_http_requests_total{operation="list-elections",status_class="4xx"} 3`)
	require.Contains(t, out, `procuration_http_requests_total{operation="get-procuration",status_class="4xx"} 1`)
	require.Contains(t, out, `procuration_http_requests_total{operation="unmatched",status_class="4xx"} 1`)
	require.Contains(t, out, `procuration_http_requests_total{operation="GET /metrics",status_class="2xx"} 1`)
	require.Contains(t, out, `procuration_http_request_duration_seconds_bucket{operation="list-elections",le="0.005"}`)
	require.NotContains(t, out, "N3AX5S")
}
