package metrics

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func scrape(t *testing.T, r *Registry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	require.Equal(t, 200, rec.Code)
	body, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	return string(body)
}

func TestRequestsAndEmails(t *testing.T) {
	r := New()
	r.ObserveRequest("create-procuration", 201, 30*time.Millisecond)
	r.ObserveRequest("create-procuration", 422, time.Millisecond)
	r.ObserveRequest("", 404, time.Millisecond)
	r.Email("submitted", EmailSent)
	out := scrape(t, r)
	require.Contains(t, out, `procuration_http_requests_total{operation="create-procuration",status_class="2xx"} 1`)
	require.Contains(t, out, `procuration_http_requests_total{operation="create-procuration",status_class="4xx"} 1`)
	require.Contains(t, out, `procuration_http_requests_total{operation="unmatched",status_class="4xx"} 1`)
	require.Contains(t, out, `procuration_http_request_duration_seconds_count{operation="create-procuration"} 2`)
	require.Contains(t, out, `procuration_emails_total{kind="submitted",outcome="sent"} 1`)
	require.Contains(t, out, "go_goroutines")

	var none *Registry // parts built without metrics record nothing
	none.ObserveRequest("x", 200, 0)
	none.Email("x", EmailSent)
}

// The SDK sets different tags on one name from different places; each
// becomes a series of one metric with the union of labels.
func TestTemporalHandler(t *testing.T) {
	r := New()
	h := r.Temporal("procurations").WithTags(map[string]string{"namespace": "default", "task_queue": "procurations"})
	h.Counter("temporal_workflow_completed").Inc(2)
	h.WithTags(map[string]string{"workflow_type": "Procuration"}).Counter("temporal_workflow_completed").Inc(1)
	h.WithTags(map[string]string{"activity_type": "SendMail", "unknown_tag": "dropped"}).Timer("temporal_activity_execution_latency").
		Record(250 * time.Millisecond)
	h.Gauge("temporal_num_pollers").Update(2)
	// A per-process queue (worker control, sticky) holds a random id.
	h.WithTags(map[string]string{"task_queue": "temporal-sys/worker-commands/default/4f1c2a"}).Counter("temporal_request").Inc(1)
	// A name asked as another kind records nothing, and does not panic.
	h.Timer("temporal_num_pollers").Record(time.Second)
	h.Counter("temporal_workflow_completed").Inc(-1)
	h.Counter("temporal_local_activity_total").Inc(1)

	out := scrape(t, r)
	require.Contains(t, out, `temporal_workflow_completed_total{activity_type="",cause="",client_name="",failure_reason="",namespace="default",`+
		`nexus_operation="",nexus_service="",operation="",poller_type="",status_code="",task_queue="procurations",worker_type="",workflow_type=""} 2`)
	require.Contains(t, out, `workflow_type="Procuration"} 1`)
	require.Contains(t, out, `temporal_activity_execution_latency_seconds_count{activity_type="SendMail"`)
	require.Contains(t, out, `temporal_num_pollers{`)
	require.Contains(t, out, `temporal_request_total{`)
	require.Contains(t, out, `task_queue="other"`)
	require.Contains(t, out, "temporal_local_activity_total{")
	require.NotContains(t, out, "_total_total")
	require.NotContains(t, out, "worker-commands")
	require.NotContains(t, out, "unknown_tag")
}

func TestStatusGaugeCachesAndBoundsStatuses(t *testing.T) {
	queries := 0
	counts := map[string]int{"awaiting_police": 3, "validated": 1, "made_up": 2}
	var fail error
	g := NewStatusGauge("dossiers", "test", []string{"awaiting_police", "validated", "expired"}, func(context.Context) (map[string]int, error) {
		queries++
		return counts, fail
	}, time.Hour)
	r := New()
	require.NoError(t, r.Register(g))
	out := scrape(t, r)
	require.Contains(t, out, `procuration_dossiers{status="awaiting_police"} 3`)
	require.Contains(t, out, `procuration_dossiers{status="expired"} 0`)
	require.Contains(t, out, `procuration_dossiers{status="other"} 2`)
	require.Contains(t, out, `procuration_dossiers_count_failed 0`)
	require.NotContains(t, out, "made_up")
	scrape(t, r)
	require.Equal(t, 1, queries, "the second scrape answers from the cache")

	g.ttl, fail = 0, errors.New("database away")
	out = scrape(t, r)
	require.Contains(t, out, `procuration_dossiers{status="awaiting_police"} 3`, "the last figures stay")
	require.Contains(t, out, `procuration_dossiers_count_failed 1`)
}

func TestStatusGaugeNeverCounted(t *testing.T) {
	g := NewStatusGauge("matches", "test", MatchStatuses, func(context.Context) (map[string]int, error) {
		return nil, errors.New("database away")
	}, time.Second)
	r := New()
	require.NoError(t, r.Register(g))
	out := scrape(t, r)
	require.NotContains(t, out, "procuration_matches{")
	require.Contains(t, out, "procuration_matches_count_failed 1")
}

func TestStatusClass(t *testing.T) {
	for status, class := range map[int]string{200: "2xx", 204: "2xx", 303: "3xx", 404: "4xx", 503: "5xx", 0: "other", 999: "other"} {
		require.Equal(t, class, StatusClass(status), status)
	}
}
