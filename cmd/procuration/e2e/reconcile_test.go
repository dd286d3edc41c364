package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"

	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/internal/match"
	"github.com/procurations/procuration/internal/service"
	"github.com/procurations/procuration/internal/store"
)

// After the emergency brake (a termination) or a crash between a create and
// its workflow's start, `procuration reconcile` finds the dossiers and
// matches whose read model disagrees with Temporal and repairs them.
func TestReconcileAfterTerminationAndLostStart(t *testing.T) {
	s := newStack(t)
	s.loadVoters()
	ctx := context.Background()

	// A dossier terminated at the town hall step.
	res := s.create(s.grantor("fc-marie", marie), marie, "75056", jean, "1979-11-03")
	require.Equal(t, 201, res.Status, res.Raw)
	terminated := res.Body["reference"].(string)
	require.Equal(t, 200, s.do("POST", "/v1/procurations/"+terminated+"/police-verification", s.police("opj-1"),
		map[string]any{"outcome": "verified", "id_document": map[string]any{"kind": "cni", "number": "X1234"}}).Status)
	s.waitMails("fc-marie@example.fr", 2)
	require.NoError(t, s.app.Temporal.TerminateWorkflow(ctx, dossier.WorkflowID(terminated), "", "emergency brake"))

	// A dossier stored by an API that died before starting its workflow.
	lost := store.Procuration{Reference: "LQST22", Status: dossier.AwaitingPolice, GrantorSub: "fc-luc", GrantorNNE: luc,
		GrantorGivenNames: "Luc", GrantorFamilyName: "PETIT", GrantorCommuneCode: "69123", GrantorEmail: "luc@example.fr",
		ProxyNNE: camille, ProxyGivenNames: "Camille", ProxyFamilyName: "ROBERT", ProxyBirthDate: time.Date(2001, 9, 15, 0, 0, 0, 0, time.UTC), Rounds: []int16{},
		ValidFrom: time.Now().UTC().Truncate(24 * time.Hour), ValidUntil: time.Now().UTC().AddDate(0, 3, 0).Truncate(24 * time.Hour), CreatedAt: time.Now().UTC()}
	_, _, err := s.app.Store.CreateProcuration(ctx, lost, "", "")
	require.NoError(t, err)

	// A match whose workflow never started.
	_, err = s.app.Store.CreateCampaign(ctx, store.Campaign{ID: "rec-2027", Name: "Rec", ElectionID: "presidentielle-2027",
		Sender: "Rec <rec@rec.example>", AnswerWindow: 48 * time.Hour, Retention: 24 * time.Hour, LinkReminderDays: []int32{}})
	require.NoError(t, err)
	people := map[string]string{}
	for side, name := range map[string]string{store.SideRequest: "Alice", store.SideVolunteer: "Bruno"} {
		su, _, err := s.app.Store.SignUp(ctx, store.Signup{ID: side[:1] + "-rec", CampaignID: "rec-2027", Side: side, GivenNames: name,
			FamilyName: "REC", BirthDate: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC), Email: name + "@example.fr", CommuneCode: "75056",
			Rounds: []int16{1}})
		require.NoError(t, err)
		people[side] = su.ID
	}
	require.NoError(t, s.app.Store.CreateMatch(ctx, store.NewMatch{ID: "m-rec", CampaignID: "rec-2027", RequestID: people[store.SideRequest],
		VolunteerID: people[store.SideVolunteer], Rounds: []int16{1}, Tier: 1}, time.Now()))

	var found []service.Disagreement
	dry, err := s.app.Service.Reconcile(ctx, true, func(d service.Disagreement) { found = append(found, d) })
	require.NoError(t, err)
	require.Equal(t, 3, dry.Disagreements, "%v", found)
	require.Equal(t, 3, dry.Repaired, "to repair")
	d, err := s.app.Temporal.DescribeWorkflowExecution(ctx, dossier.WorkflowID(terminated), "")
	require.NoError(t, err)
	require.Equal(t, enums.WORKFLOW_EXECUTION_STATUS_TERMINATED, d.WorkflowExecutionInfo.Status, "a dry run changes nothing")

	found = nil
	done, err := s.app.Service.Reconcile(ctx, false, func(d service.Disagreement) { found = append(found, d) })
	require.NoError(t, err)
	require.Equal(t, 3, done.Repaired, "%v", found)
	require.Zero(t, done.Failed, "%v", found)

	// The terminated dossier goes on where it was: the town hall decides.
	decided := s.do("POST", "/v1/procurations/"+terminated+"/town-hall-decision", s.townHall("mairie-paris", "75056"),
		map[string]any{"outcome": "validated"})
	require.Equal(t, 200, decided.Status, decided.Raw)
	require.Equal(t, "validated", decided.Body["status"])
	mails := s.waitMails("fc-marie@example.fr", 3)
	s.waitIdle(dossier.WorkflowID(terminated))
	require.Len(t, s.smtp.To("fc-marie@example.fr"), 3, "no email sent twice by the new run")
	require.Contains(t, mails[2].Subject, "validée")

	// The lost one now runs: its grantor gets the submission email.
	require.Contains(t, s.waitMails("luc@example.fr", 1)[0].Subject, "LQST22")
	// The match ended, its people free again.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		m, err := s.app.Store.Match(ctx, "m-rec")
		require.NoError(c, err)
		require.Equal(c, match.Cancelled, m.Status)
	}, 10*time.Second, 100*time.Millisecond)
	pool, err := s.app.Store.MatchingPool(ctx, "rec-2027")
	require.NoError(t, err)
	for _, p := range pool {
		require.Equal(t, []int16{1}, p.Rounds, "round 1 free again for %s", p.ID)
	}

	again, err := s.app.Service.Reconcile(ctx, false, func(service.Disagreement) {})
	require.NoError(t, err)
	require.Zero(t, again.Disagreements, "everything agrees now")
}
