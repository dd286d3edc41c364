// Package metrics is what the API and the worker expose to Prometheus at
// /metrics: requests per operation, emails, dossiers by status and the
// Temporal SDK's own metrics.
//
// Label values are bounded by construction: operation ids and route
// patterns (never a raw path, which holds references), status classes,
// email kinds, statuses. No label ever names a person or a dossier.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes the project's own metrics.
const Namespace = "procuration"

// Registry holds a process's metrics. A nil *Registry records nothing, so
// parts built without one (unit tests, commands) need no special case.
type Registry struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	emails   *prometheus.CounterVec
}

// New registers the process's and the Go runtime's collectors beside the
// project's own metrics.
func New() *Registry {
	r := &Registry{reg: prometheus.NewRegistry()}
	r.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "http", Name: "requests_total",
		Help: "HTTP requests answered, by Huma operation id (or route pattern for pages) and status class.",
	}, []string{"operation", "status_class"})
	r.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "http", Name: "request_duration_seconds",
		Help:    "Time to answer an HTTP request, by Huma operation id (or route pattern for pages).",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"operation"})
	r.emails = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "emails", Name: "total",
		Help: "Emails handed to the SMTP relay, by kind and outcome: sent, refused (for good), failed (retried), duplicate (sent before).",
	}, []string{"kind", "outcome"})
	r.reg.MustRegister(r.requests, r.latency, r.emails,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Handler serves the Prometheus text format.
func (r *Registry) Handler() http.Handler {
	if r == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{Registry: r.reg})
}

// Register adds a collector of the caller's (dossiers by status).
func (r *Registry) Register(c prometheus.Collector) error {
	if r == nil {
		return nil
	}
	return r.reg.Register(c)
}

// Unmatched names requests no route took (404, 405): their paths are
// whatever a client typed, so they share one label value.
const Unmatched = "unmatched"

// ObserveRequest counts one answered request. operation must be an
// operation id or a route pattern, never the request's path.
func (r *Registry) ObserveRequest(operation string, status int, took time.Duration) {
	if r == nil {
		return
	}
	if operation == "" {
		operation = Unmatched
	}
	r.requests.WithLabelValues(operation, StatusClass(status)).Inc()
	r.latency.WithLabelValues(operation).Observe(took.Seconds())
}

// StatusClass is 2xx, 3xx, 4xx or 5xx.
func StatusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

// Email outcomes.
const (
	EmailSent      = "sent"
	EmailRefused   = "refused"
	EmailFailed    = "failed"
	EmailDuplicate = "duplicate"
)

// Email counts one email's outcome; kind is the template's name.
func (r *Registry) Email(kind, outcome string) {
	if r == nil {
		return
	}
	r.emails.WithLabelValues(kind, outcome).Inc()
}
