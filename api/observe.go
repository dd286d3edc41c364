package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"regexp"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"go.uber.org/zap"

	"github.com/procurations/procuration/internal/logging"
	"github.com/procurations/procuration/internal/metrics"
)

// RequestIDHeader carries a request's id: taken from the caller (a reverse
// proxy that set one) when well formed, echoed in every answer, and on
// every log line of the request.
const RequestIDHeader = "X-Request-Id"

// wellFormedRequestID accepts the usual ids (UUIDs, hex, base64url, the
// proxies' own formats) and nothing that could break a log line or grow
// it without bound.
var wellFormedRequestID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$`)

func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// route is filled in while a request is served with the name it is
// counted under: the Huma operation id, else the router's pattern.
type route struct{ operation, pattern string }

type routeKey struct{}

func (r *route) name() string {
	if r.operation != "" {
		return r.operation
	}
	return r.pattern
}

// observe gives each request its id and logger field, then counts it by
// the operation that served it.
func observe(log *zap.Logger, m *metrics.Registry, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(RequestIDHeader)
		if !wellFormedRequestID.MatchString(id) {
			id = newRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		rt := &route{}
		ctx := context.WithValue(logging.WithRequestID(r.Context(), id), routeKey{}, rt)
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(ctx))
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		took := time.Since(start)
		m.ObserveRequest(rt.name(), status, took)
		logging.Ctx(ctx, log).Debug("request", zap.String("operation", rt.name()), zap.Int("status", status), zap.Duration("took", took))
	})
}

// nameOperation records the Huma operation serving the request.
func nameOperation(ctx huma.Context, next func(huma.Context)) {
	if rt, ok := ctx.Context().Value(routeKey{}).(*route); ok {
		rt.operation = ctx.Operation().OperationID
	}
	next(ctx)
}

// namePattern records the router's pattern that served r (pages, static
// files), once the router has matched it.
func namePattern(r *http.Request) {
	if rt, ok := r.Context().Value(routeKey{}).(*route); ok && rt.operation == "" {
		rt.pattern = r.Pattern
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flush,
// deadlines) through the recorder.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
