package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
)

// The guard reads a JSON body before Huma does, then Huma sets its body
// deadline; a handler that works longer than that deadline (an update
// waiting for its workflow while a worker restarts) keeps its context,
// and so does the next request over the same keep-alive connection.
func TestABodyAlreadyReadLeavesNoDeadlineBehind(t *testing.T) {
	srv := httptest.NewServer(guard(zap.NewNop(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = huma.SetReadDeadline(w, time.Now().Add(100*time.Millisecond)) // as Huma does before reading a body
		_, _ = io.ReadAll(r.Body)
		select {
		case <-r.Context().Done():
			w.WriteHeader(http.StatusInternalServerError)
		case <-time.After(300 * time.Millisecond):
			w.WriteHeader(http.StatusOK)
		}
	}), nil))
	defer srv.Close()
	for range 2 {
		res, err := srv.Client().Post(srv.URL+"/v1/procurations/ABC234/police-verification", "application/json",
			strings.NewReader(`{"outcome":"verified"}`))
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode, "the request's context was cancelled")
	}
}
