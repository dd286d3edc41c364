package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/internal/match"
	"github.com/procurations/procuration/internal/outbox"
)

// Support's "Request Cancellation" runs the cancellation path: a step by
// support, the slot released, the emails (the grantor's, the holder's of a
// validated one); the workflow ends cancelled.
func TestCancellationFromTemporalRunsTheCancellationPath(t *testing.T) {
	h := newHarness(t)
	h.at(time.Hour, dossier.UpdatePoliceVerification, verified, "")
	h.at(2*time.Hour, dossier.UpdateTownHallDecision, validate, "")
	h.env.RegisterDelayedCallback(h.env.CancelWorkflow, 3*time.Hour)
	h.env.RegisterWorkflowWithOptions((&Procurations{Policy: h.policy}).Procuration, workflowName(dossier.WorkflowName))
	h.env.ExecuteWorkflow(dossier.WorkflowName, h.in)
	require.True(t, temporal.IsCanceledError(h.env.GetWorkflowError()), "%v", h.env.GetWorkflowError())
	last := h.steps[len(h.steps)-1]
	require.Equal(t, dossier.Cancelled, last.Status)
	require.Equal(t, dossier.SupportActor, last.Actor)
	require.Equal(t, "cancel.support", last.Action)
	require.Equal(t, 1, h.released)
	kinds := h.kinds()
	require.Equal(t, []dossier.MailKind{dossier.MailCancelled, dossier.MailHolderCancelled}, kinds[len(kinds)-2:])
	require.Equal(t, 3*time.Hour, h.mails[len(h.mails)-1].at)
}

func TestMatchCancelledFromTemporalTellsBoth(t *testing.T) {
	h := newMatchHarness(t)
	h.at(time.Hour, match.UpdateAnswer, requesterAccepts, "")
	h.env.RegisterDelayedCallback(h.env.CancelWorkflow, 2*time.Hour)
	h.env.ExecuteWorkflow(Match, h.in)
	require.True(t, temporal.IsCanceledError(h.env.GetWorkflowError()))
	last := h.steps[len(h.steps)-1]
	require.Equal(t, match.Cancelled, last.Status)
	require.Equal(t, match.Support, last.Actor)
	require.Equal(t, []string{"match_ended:requester", "match_ended:volunteer"}, h.sent()[len(h.sent())-2:])
}

// An email the mail server took but whose record could not be marked is
// marked in a step of its own: it is never sent twice.
func TestUnmarkedEmailIsMarkedNotResent(t *testing.T) {
	env := newEnv()
	env.SetStartTime(t0)
	registerActivities(env)
	sends, marks := 0, 0
	env.OnActivity(dossier.ActivitySendMail, mock.Anything, mock.Anything).Return(func(context.Context, dossier.Mail) (outbox.Receipt, error) {
		sends++
		return outbox.Receipt{Unmarked: sends == 1}, nil
	})
	env.OnActivity(outbox.MarkSentActivity, mock.Anything, "K7M2QX/submission").Return(func(context.Context, string) error {
		marks++
		if marks < 3 {
			return errors.New("database away")
		}
		return nil
	})
	env.OnActivity(dossier.ActivityRecordStep, mock.Anything, mock.Anything).Return(nil)
	cancel := dossier.Cancellation{Actor: grantor}
	updateAt(t, env, day, dossier.UpdateCancel, cancel, "")
	env.RegisterWorkflowWithOptions((&Procurations{Policy: dossier.DefaultPolicy()}).Procuration, workflowName(dossier.WorkflowName))
	env.ExecuteWorkflow(dossier.WorkflowName, dossier.Start{Reference: "K7M2QX", CommuneCode: "75056", ValidUntil: t0.Add(30 * day)})
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, 2, sends, "the submission once, then the cancellation")
	require.Equal(t, 3, marks, "the mark alone was retried")
}

// A refusal for good is flagged and the dossier goes on.
func TestRefusedEmailIsFlaggedAndTheDossierGoesOn(t *testing.T) {
	h := newHarness(t)
	h.receipt = func(dossier.Mail) outbox.Receipt { return outbox.Receipt{Refused: "réponse SMTP 550"} }
	h.at(time.Hour, dossier.UpdateCancel, dossier.Cancellation{Actor: grantor}, "")
	require.Equal(t, dossier.Cancelled, h.run())
	require.Equal(t, []dossier.MailKind{dossier.MailSubmission, dossier.MailCancelled}, h.kinds(), "each email tried once")
}

// A step the database refuses for good is not retried forever: the dossier
// is flagged and its other actions still work.
func TestPermanentStepFailureIsFlaggedNotRetried(t *testing.T) {
	h := newHarness(t)
	h.in.ValidUntil = t0.Add(2 * day)
	attempts := 0
	h.refuse = func(s dossier.Step) error {
		if s.Status != dossier.Expired {
			return nil
		}
		attempts++
		return temporal.NewNonRetryableApplicationError("the database refused the step (SQLSTATE 22021)", outbox.ErrPermanent, nil)
	}
	h.at(3*day, dossier.UpdateCancel, dossier.Cancellation{Actor: grantor}, "")
	require.Equal(t, dossier.Cancelled, h.run())
	require.Equal(t, 1, attempts, "not retried")
	require.Equal(t, []dossier.Status{dossier.Cancelled}, h.statuses())
}
