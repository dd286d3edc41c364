package e2e

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"

	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/internal/testenv"
)

// validated drives a new dossier of Marie's, with Jean as holder, to validation.
func (s *stack) validated() string {
	s.t.Helper()
	res := s.create(s.grantor("fc-marie", marie), marie, "75056", jean, "1979-11-03")
	require.Equal(s.t, 201, res.Status, res.Raw)
	ref := res.Body["reference"].(string)
	require.Equal(s.t, 200, s.do("POST", "/v1/procurations/"+ref+"/police-verification", s.police("opj-1"),
		map[string]any{"outcome": "verified", "id_document": map[string]any{"kind": "cni", "number": "X1234"}}).Status)
	require.Equal(s.t, 200, s.do("POST", "/v1/procurations/"+ref+"/town-hall-decision", s.townHall("mairie-paris", "75056"),
		map[string]any{"outcome": "validated"}).Status)
	return ref
}

// openTimers lists the summaries of the timers a workflow still runs.
func (s *stack) openTimers(workflowID string) []string {
	s.t.Helper()
	open := map[int64]string{}
	it := s.app.Temporal.GetWorkflowHistory(context.Background(), workflowID, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(s.t, err)
		switch attrs := e.Attributes.(type) {
		case *historypb.HistoryEvent_TimerStartedEventAttributes:
			var summary string
			if p := e.GetUserMetadata().GetSummary(); p != nil {
				summary = strings.Trim(string(p.GetData()), `"`)
			}
			open[e.EventId] = summary
		case *historypb.HistoryEvent_TimerFiredEventAttributes:
			delete(open, attrs.TimerFiredEventAttributes.StartedEventId)
		case *historypb.HistoryEvent_TimerCanceledEventAttributes:
			delete(open, attrs.TimerCanceledEventAttributes.StartedEventId)
		}
	}
	var out []string
	for _, summary := range open {
		out = append(out, summary)
	}
	return out
}

// A validated dossier waits only for its expiry: the reminder timers of the
// steps it went through ended with them.
func TestValidatedDossierWaitsOnlyForItsExpiry(t *testing.T) {
	s := newStack(t)
	s.loadVoters()
	ref := s.validated()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, []string{"end of validity"}, s.openTimers(dossier.WorkflowID(ref)))
	}, 20*time.Second, 100*time.Millisecond)
}

// "Request Cancellation" in the Web UI takes the path of a grantor's
// cancellation: status, audit entry naming support, slot released, email.
func TestCancellationFromTheWebUI(t *testing.T) {
	s := newStack(t)
	s.loadVoters()
	ref := s.validated()
	s.waitMails("fc-marie@example.fr", 3)
	slots, err := s.app.Store.ActiveSlots(context.Background(), jean)
	require.NoError(t, err)
	require.Equal(t, 1, slots)

	require.NoError(t, s.app.Temporal.CancelWorkflow(context.Background(), dossier.WorkflowID(ref), ""))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		d, err := s.app.Temporal.DescribeWorkflowExecution(context.Background(), dossier.WorkflowID(ref), "")
		require.NoError(c, err)
		require.Equal(c, enums.WORKFLOW_EXECUTION_STATUS_CANCELED, d.WorkflowExecutionInfo.Status)
	}, 20*time.Second, 100*time.Millisecond)

	got := s.do("GET", "/v1/procurations/"+ref, s.grantor("fc-marie", marie), nil)
	require.Equal(t, "cancelled", got.Body["status"], got.Raw)
	slots, err = s.app.Store.ActiveSlots(context.Background(), jean)
	require.NoError(t, err)
	require.Zero(t, slots, "the holder's slot is released")
	trail, err := s.app.Store.AuditTrail(context.Background(), ref)
	require.NoError(t, err)
	last := trail[len(trail)-1]
	require.Equal(t, "support", last.ActorRole)
	require.Equal(t, "cancel.support", last.Action)
	mails := s.waitMails("fc-marie@example.fr", 4)
	require.Contains(t, mails[3].Subject, "résiliée")
	// The portals agree: no contradictory 409 on a dossier still "validated".
	again := s.do("POST", "/v1/procurations/"+ref+"/cancel", s.grantor("fc-marie", marie), nil)
	require.Equal(t, 409, again.Status)
	require.Contains(t, again.Body["detail"], "résiliée")
}

// The mail server took the email, then the database went away before the
// email could be marked sent: the mark is retried on its own and the email
// is never sent again.
func TestSentEmailIsMarkedWithoutSendingAgain(t *testing.T) {
	s := newStack(t)
	s.loadVoters()
	var (
		once    sync.Once
		stopped = make(chan error, 1)
	)
	s.smtp.SetBeforeReply(func(m testenv.Mail) {
		if strings.Contains(m.Subject, "enregistrée") {
			once.Do(func() { stopped <- s.pg.Stop() })
		}
	})
	res := s.create(s.grantor("fc-marie", marie), marie, "75056", jean, "1979-11-03")
	require.Equal(t, 201, res.Status, res.Raw)
	ref := res.Body["reference"].(string)
	require.NoError(t, <-stopped)

	// While the database is away the API answers 503, in French, with Retry-After.
	down := s.do("GET", "/v1/procurations/"+ref, s.grantor("fc-marie", marie), nil)
	require.Equal(t, 503, down.Status, down.Raw)
	require.Equal(t, "application/problem+json", down.Header.Get("Content-Type"))
	require.NotEmpty(t, down.Header.Get("Retry-After"))
	require.Contains(t, down.Body["detail"], "indisponible")
	create := s.create(s.grantor("fc-luc", luc), luc, "69123", camille, "2001-09-15")
	require.Equal(t, 503, create.Status, create.Raw)

	time.Sleep(3 * time.Second) // the database stays away while the worker tries to mark the email
	s.pg.Start()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		sent, err := s.app.Store.SentMails(context.Background(), ref)
		require.NoError(c, err)
		require.Len(c, sent, 1)
		require.NotNil(c, sent[0].SentAt, "marked once the database is back")
	}, 60*time.Second, 200*time.Millisecond)
	s.waitIdle(dossier.WorkflowID(ref))
	require.Len(t, s.smtp.To("fc-marie@example.fr"), 1, "sent once")
	require.Equal(t, 200, s.do("GET", "/v1/procurations/"+ref, s.grantor("fc-marie", marie), nil).Status)
}

// waitIdle waits until a workflow runs no activity: nothing more can be sent.
func (s *stack) waitIdle(workflowID string) {
	s.t.Helper()
	require.EventuallyWithT(s.t, func(c *assert.CollectT) {
		d, err := s.app.Temporal.DescribeWorkflowExecution(context.Background(), workflowID, "")
		require.NoError(c, err)
		require.Empty(c, d.PendingActivities)
		require.Nil(c, d.PendingWorkflowTask)
	}, 30*time.Second, 100*time.Millisecond)
}

// /readyz says whether any worker polls the task queue.
func TestReadinessSeesTheWorkers(t *testing.T) {
	s := newStack(t)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		r := s.do("GET", "/readyz", "", nil)
		require.Equal(c, 200, r.Status, r.Raw)
		require.Greater(c, r.Body["workflow_pollers"], 0.0)
		require.Greater(c, r.Body["activity_pollers"], 0.0)
	}, 30*time.Second, 200*time.Millisecond)
	nobody := *s.app.Service
	nobody.TaskQueue = "a-queue-nobody-polls"
	h := nobody.Health(context.Background(), true)
	require.True(t, h.Postgres && h.Temporal)
	require.False(t, h.Ready(), "no worker on that queue")
	require.Zero(t, h.WorkflowPollers)
}
