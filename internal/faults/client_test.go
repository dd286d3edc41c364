package faults

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// An action is retried through 503 and 500 with the same idempotency key
// until its final answer; every answer is counted by status.
func TestActRetriesUntilAFinalAnswer(t *testing.T) {
	var calls atomic.Int32
	keys := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys <- r.Header.Get("Idempotency-Key")
		switch calls.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
		case 2:
			w.WriteHeader(http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusCreated)
		}
	}))
	defer srv.Close()
	c := NewClient(srv.URL, 2)
	out, err := c.Act(t.Context(), time.Now().Add(10*time.Second), Request{Method: http.MethodPost, Path: "/v1/procurations",
		Body: map[string]any{"x": 1}, IdempotencyKey: "k-1"})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, out.Response.Status)
	require.Equal(t, 3, out.Attempts)
	require.True(t, out.Unanswered)
	for range 3 {
		require.Equal(t, "k-1", <-keys)
	}
	f := c.Figures()
	require.Equal(t, 3, f.Requests)
	unavailable, other := f.ServerErrors()
	require.Equal(t, 1, unavailable)
	require.Equal(t, map[int]int{500: 1}, other)
}

// A server that never answers well makes the action give up at its
// deadline; connection failures are counted apart.
func TestActGivesUpAtItsDeadline(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	url := srv.URL
	srv.Close()
	c := NewClient(url, 1)
	out, err := c.Act(t.Context(), time.Now().Add(time.Second), Request{Method: http.MethodGet, Path: "/healthz"})
	require.ErrorIs(t, err, ErrDeadline)
	require.Greater(t, out.Attempts, 1)
	require.Equal(t, out.Attempts, c.Figures().Unanswered)
}
