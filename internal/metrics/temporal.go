package metrics

import (
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// temporalLabels are the tag keys the Go SDK sets (sdk internal/common/
// metrics/constants.go). A Prometheus metric has one label set, while the
// SDK sets different tags on the same name from different places: every
// Temporal metric carries all of these, empty where the SDK set none. A
// tag outside the list is dropped rather than refused.
var temporalLabels = []string{"namespace", "client_name", "worker_type", "poller_type", "workflow_type", "activity_type",
	"task_queue", "operation", "status_code", "failure_reason", "cause", "nexus_service", "nexus_operation"}

// TemporalBuckets bound the SDK's latencies (seconds): from a local
// activity's milliseconds to a long poll's minute.
var TemporalBuckets = []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// Temporal adapts the SDK's metrics handler onto the registry. The SDK's
// names (temporal_workflow_task_execution_latency, ...) are kept, with
// Prometheus' suffixes: _total on counters (once: temporal_local_activity_total
// stays so), _seconds on timers (histograms).
// taskQueues are the task queue names kept as label values: the SDK also
// tags with per-process queues (sticky, worker control) whose names hold
// a random id, which become "other".
func (r *Registry) Temporal(taskQueues ...string) client.MetricsHandler {
	if r == nil {
		return client.MetricsNopHandler
	}
	t := &temporalMetrics{reg: r.reg, queues: map[string]bool{}, vecs: map[string]any{}}
	for _, q := range taskQueues {
		t.queues[q] = true
	}
	return temporalHandler{m: t}
}

type temporalMetrics struct {
	reg    *prometheus.Registry
	queues map[string]bool

	mu   sync.Mutex
	vecs map[string]any // by name: *CounterVec, *GaugeVec or *HistogramVec
}

type temporalHandler struct {
	m    *temporalMetrics
	tags map[string]string
}

func (h temporalHandler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := make(map[string]string, len(h.tags)+len(tags))
	for k, v := range h.tags {
		merged[k] = v
	}
	for k, v := range tags {
		merged[k] = v
	}
	return temporalHandler{m: h.m, tags: merged}
}

func (h temporalHandler) values() []string {
	out := make([]string, len(temporalLabels))
	for i, k := range temporalLabels {
		v := h.tags[k]
		if k == "task_queue" && v != "" && v != "none" && !h.m.queues[v] {
			v = "other"
		}
		out[i] = v
	}
	return out
}

func (h temporalHandler) Counter(name string) client.MetricsCounter {
	vec, ok := vecFor(h.m, strings.TrimSuffix(name, "_total")+"_total", func(n string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: n, Help: "Temporal SDK counter " + name + "."}, temporalLabels)
	})
	if !ok {
		return client.MetricsNopHandler.Counter(name)
	}
	c := vec.WithLabelValues(h.values()...)
	return counterFunc(func(d int64) {
		if d > 0 { // a Prometheus counter only goes up
			c.Add(float64(d))
		}
	})
}

func (h temporalHandler) Gauge(name string) client.MetricsGauge {
	vec, ok := vecFor(h.m, name, func(n string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: n, Help: "Temporal SDK gauge " + name + "."}, temporalLabels)
	})
	if !ok {
		return client.MetricsNopHandler.Gauge(name)
	}
	g := vec.WithLabelValues(h.values()...)
	return gaugeFunc(g.Set)
}

func (h temporalHandler) Timer(name string) client.MetricsTimer {
	vec, ok := vecFor(h.m, strings.TrimSuffix(name, "_seconds")+"_seconds", func(n string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: n, Help: "Temporal SDK timer " + name + " (seconds).",
			Buckets: TemporalBuckets}, temporalLabels)
	})
	if !ok {
		return client.MetricsNopHandler.Timer(name)
	}
	o := vec.WithLabelValues(h.values()...)
	return timerFunc(func(d time.Duration) { o.Observe(d.Seconds()) })
}

// vecFor registers a name's vector on first use. A name the SDK would use
// as two kinds, or that collides with another collector, records nothing
// rather than failing the SDK's call.
func vecFor[V prometheus.Collector](m *temporalMetrics, name string, create func(string) V) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if existing, ok := m.vecs[name]; ok {
		v, same := existing.(V)
		return v, same
	}
	v := create(name)
	if err := m.reg.Register(v); err != nil {
		m.vecs[name] = struct{}{}
		var zero V
		return zero, false
	}
	m.vecs[name] = v
	return v, true
}

type counterFunc func(int64)

func (f counterFunc) Inc(d int64) { f(d) }

type gaugeFunc func(float64)

func (f gaugeFunc) Update(v float64) { f(v) }

type timerFunc func(time.Duration)

func (f timerFunc) Record(d time.Duration) { f(d) }
