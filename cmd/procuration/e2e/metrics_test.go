package e2e

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/procurations/procuration/internal/geo"
)

func scrape(t require.TestingT, url string) string {
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, 200, res.StatusCode)
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return string(body)
}

// sample is the value of the series matching selector (a metric name and
// its labels as the text format writes them), 0 when absent.
func sample(t require.TestingT, out, series string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(out)
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	return v
}

// The API's /metrics counts requests per operation and exposes the
// dossiers by status; the worker's answers the SDK's metrics and the
// emails; no label holds a reference, a name or an address.
func TestMetricsOfAPIAndWorker(t *testing.T) {
	s := newStack(t)
	s.loadVoters()
	created := `procuration_http_requests_total{operation="create-procuration",status_class="2xx"}`
	before := scrape(t, s.url+"/metrics")
	require.Zero(t, sample(t, before, created))

	marieTok := s.grantor("fc-marie", marie)
	sophieTok := s.grantor("fc-sophie", sophie)
	refs := []string{}
	for _, r := range []response{s.create(marieTok, marie, "75056", jean, "1979-11-03"), s.create(sophieTok, sophie, "75056", jean, "1979-11-03")} {
		require.Equal(t, 201, r.Status, r.Raw)
		refs = append(refs, r.Body["reference"].(string))
	}
	require.Equal(t, 422, s.create(marieTok, marie, "75056", marie, "1985-04-12").Status)
	require.Equal(t, 200, s.do("GET", "/v1/procurations/"+refs[0], marieTok, nil).Status)
	require.Equal(t, 200, s.do("POST", "/v1/procurations/"+refs[1]+"/cancel", sophieTok, nil).Status)
	page, err := http.Get(s.url + "/police")
	require.NoError(t, err)
	page.Body.Close()

	// The status gauge is cached for a few seconds: wait for it to catch up.
	var out string
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		out = scrape(c, s.url+"/metrics")
		require.Equal(c, 1.0, sample(c, out, `procuration_dossiers{status="awaiting_police"}`))
		require.Equal(c, 1.0, sample(c, out, `procuration_dossiers{status="cancelled"}`))
	}, 20*time.Second, 250*time.Millisecond)
	require.Equal(t, 2.0, sample(t, out, created))
	require.Equal(t, 1.0, sample(t, out, `procuration_http_requests_total{operation="create-procuration",status_class="4xx"}`))
	require.Equal(t, 1.0, sample(t, out, `procuration_http_requests_total{operation="get-procuration",status_class="2xx"}`))
	require.Equal(t, 1.0, sample(t, out, `procuration_http_requests_total{operation="cancel-procuration",status_class="2xx"}`))
	require.Equal(t, 1.0, sample(t, out, `procuration_http_requests_total{operation="GET /police",status_class="4xx"}`), "a page counted by its pattern")
	require.Equal(t, 0.0, sample(t, out, `procuration_dossiers{status="validated"}`))
	require.Contains(t, out, `procuration_dossiers{status="validated"} 0`)
	require.Contains(t, out, `procuration_http_request_duration_seconds_count{operation="create-procuration"} 3`)

	// The worker's own listener (METRICS_ADDR).
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	addr, err := s.app.ServeMetrics(ctx, "127.0.0.1:0")
	require.NoError(t, err)
	s.waitMails("fc-marie@example.fr", 1)
	var worker string
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		worker = scrape(c, "http://"+addr.String()+"/metrics")
		require.GreaterOrEqual(c, sample(c, worker, `procuration_emails_total{kind="submission",outcome="sent"}`), 1.0)
	}, 20*time.Second, 250*time.Millisecond)
	require.Contains(t, worker, "temporal_workflow_task_execution_latency_seconds_bucket{")
	require.Contains(t, worker, `workflow_type="Procuration"`)
	require.Contains(t, worker, "temporal_activity_execution_latency_seconds_count{")
	require.Contains(t, worker, "temporal_request_total{")
	require.Contains(t, worker, `task_queue="procurations-test"`)

	// No label value is a reference, a name, an email address or a
	// per-process queue.
	for _, text := range []string{out, worker} {
		for _, secret := range append(refs, "fc-marie", "DUPONT", "Marie", "@example.fr", marie) {
			require.NotContains(t, text, secret)
		}
		for _, v := range geo.DemoVoters {
			require.NotContains(t, text, v.FamilyName)
		}
		for _, m := range regexp.MustCompile(`task_queue="([^"]*)"`).FindAllStringSubmatch(text, -1) {
			require.Contains(t, []string{"", "none", "other", "procurations-test"}, m[1])
		}
	}
}
