package metrics

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// sdkMetrics are the Temporal Go SDK's metric names the dashboard may use
// (sdk v1.50 internal/common/metrics/constants.go, not importable), with
// the suffixes this adapter adds.
var sdkMetrics = []string{
	"temporal_workflow_task_execution_latency_seconds", "temporal_workflow_task_schedule_to_start_latency_seconds",
	"temporal_activity_execution_latency_seconds", "temporal_activity_schedule_to_start_latency_seconds",
	"temporal_local_activity_execution_latency_seconds", "temporal_workflow_task_execution_failed_total",
	"temporal_activity_execution_failed_total", "temporal_local_activity_execution_failed_total", "temporal_workflow_failed_total",
	"temporal_request_failure_total", "temporal_long_request_failure_total", "temporal_worker_task_slots_available",
	"temporal_worker_task_slots_used", "temporal_workflow_completed_total", "temporal_sticky_cache_size",
}

// Every series the dashboard queries is one this code exposes.
func TestDashboardQueriesExposedMetrics(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "grafana", "procuration.json"))
	require.NoError(t, err)
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(raw, &dash))
	require.Equal(t, "procuration", dash.UID)

	r := New()
	r.ObserveRequest("create-procuration", 201, time.Millisecond)
	r.Email("submission", EmailSent)
	counts := func(context.Context) (map[string]int, error) { return map[string]int{}, nil }
	require.NoError(t, r.Register(NewStatusGauge("dossiers", "", DossierStatuses, counts, time.Second)))
	require.NoError(t, r.Register(NewStatusGauge("matches", "", MatchStatuses, counts, time.Second)))
	exposed := scrape(t, r)

	names := regexp.MustCompile(`\b(procuration|temporal)_[a-z_]+`)
	queried := 0
	for _, p := range dash.Panels {
		if p.Type == "row" {
			continue
		}
		require.NotEmpty(t, p.Targets, p.Title)
		for _, target := range p.Targets {
			for _, name := range names.FindAllString(target.Expr, -1) {
				queried++
				base := strings.TrimSuffix(name, "_bucket")
				if strings.HasPrefix(name, "temporal_") {
					require.Contains(t, sdkMetrics, base, "%s: %s", p.Title, name)
					continue
				}
				require.Regexp(t, `(?m)^`+regexp.QuoteMeta(name)+`[{ ]`, exposed, "%s: %s", p.Title, name)
			}
		}
	}
	require.Greater(t, queried, 20)
}
