package app

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/procurations/procuration/internal/metrics"
)

// statusCountsTTL is how long a count of the read models serves scrapes:
// a scrape every few seconds from several Prometheus costs one query.
const statusCountsTTL = 10 * time.Second

// countStatuses exposes the dossiers and matches by status. The API does,
// not the worker: the figures are the deployment's, and one process kind
// answering them keeps dashboards from adding replicas' copies.
func (a *App) countStatuses() {
	for _, g := range []*metrics.StatusGauge{
		metrics.NewStatusGauge("dossiers", "Dossiers (official procurations) by status, from the read model.",
			metrics.DossierStatuses, a.Store.ProcurationsByStatus, statusCountsTTL),
		metrics.NewStatusGauge("matches", "Matches of the matching platforms by status, from the read model.",
			metrics.MatchStatuses, a.Store.MatchesByStatus, statusCountsTTL),
	} {
		// Registered once per process; a second handler shares them.
		_ = a.Metrics.Register(g)
	}
}

// ServeMetrics serves /metrics on addr (the worker's METRICS_ADDR) until
// ctx ends, and answers where it listens.
func (a *App) ServeMetrics(ctx context.Context, addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.Metrics.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			a.Log.Error("metrics server stopped", zap.Error(err))
		}
	}()
	return ln.Addr(), nil
}
