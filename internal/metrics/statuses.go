package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/internal/match"
)

// Counts reads how many rows of a read model are in each status.
type Counts func(ctx context.Context) (map[string]int, error)

// DossierStatuses and MatchStatuses are the label values of the gauges:
// every status is always exposed (zero included) and a status the read
// model holds outside these lists is counted as "other".
var (
	DossierStatuses = []string{string(dossier.AwaitingPolice), string(dossier.AwaitingTownHall), string(dossier.Validated),
		string(dossier.Invalidated), string(dossier.Refused), string(dossier.Cancelled), string(dossier.Expired)}
	MatchStatuses = []string{string(match.Proposed), string(match.AwaitingAnswer), string(match.Accepted), string(match.ProcurationLinked),
		string(match.Completed), string(match.Declined), string(match.Expired), string(match.Rejected), string(match.Cancelled)}
)

// StatusGauge exposes a read model's count per status, read from
// PostgreSQL when scraped. The answer is kept for ttl so that several
// scrapers (two Prometheus, replicas behind one name) cost one query.
type StatusGauge struct {
	desc     *prometheus.Desc
	failed   prometheus.Gauge
	statuses []string
	count    Counts
	ttl      time.Duration

	mu     sync.Mutex
	at     time.Time
	counts map[string]int
}

// NewStatusGauge exposes name{status} from count.
func NewStatusGauge(name, help string, statuses []string, count Counts, ttl time.Duration) *StatusGauge {
	return &StatusGauge{
		desc: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, []string{"status"}, nil),
		failed: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: name + "_count_failed",
			Help: "1 when the last count of " + name + " by status failed (the figures shown are older)."}),
		statuses: statuses, count: count, ttl: ttl,
	}
}

func (g *StatusGauge) Describe(ch chan<- *prometheus.Desc) {
	ch <- g.desc
	g.failed.Describe(ch)
}

func (g *StatusGauge) Collect(ch chan<- prometheus.Metric) {
	counts := g.current()
	g.failed.Collect(ch)
	if counts == nil {
		return // never counted: no figure rather than zeros
	}
	for _, s := range g.statuses {
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(counts[s]), s)
	}
	if n, ok := counts["other"]; ok {
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(n), "other")
	}
}

// current answers from the cache, or counts again once it is older than
// ttl; a failed count keeps the last figures and says so.
func (g *StatusGauge) current() map[string]int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.counts != nil && time.Since(g.at) < g.ttl {
		return g.counts
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	raw, err := g.count(ctx)
	g.at = time.Now()
	if err != nil {
		g.failed.Set(1)
		return g.counts
	}
	g.failed.Set(0)
	known := map[string]bool{}
	for _, s := range g.statuses {
		known[s] = true
	}
	counts := map[string]int{}
	for s, n := range raw {
		if !known[s] {
			s = "other"
		}
		counts[s] += n
	}
	g.counts = counts
	return counts
}
