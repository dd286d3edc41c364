package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/procurations/procuration/internal/outbox"
	"github.com/procurations/procuration/internal/signup"
)

// Signup sends a matching platform's confirmation email, retrying until the
// mail server takes it: the person's only way into the pool is that link.
func Signup(ctx workflow.Context, signupID string) error {
	workflow.SetCurrentDetails(ctx, "Envoi de l'e-mail de confirmation de l'inscription "+signupID)
	var receipt outbox.Receipt
	if err := workflow.ExecuteActivity(mailContext(ctx, "e-mail de confirmation de l'inscription"), signup.ActivitySendConfirmation, signupID).
		Get(ctx, &receipt); err != nil {
		return err
	}
	if receipt.Unmarked {
		if err := workflow.ExecuteActivity(activityContext(ctx, "mark the confirmation sent"), outbox.MarkSentActivity,
			signup.ConfirmationKey(signupID)).Get(ctx, nil); err != nil {
			return err
		}
	}
	if receipt.Refused != "" {
		_ = workflow.UpsertTypedSearchAttributes(ctx, outbox.AlertAttribute.ValueSet("email_refused"))
		workflow.SetCurrentDetails(ctx, "⚠ E-mail de confirmation de l'inscription "+signupID+" refusé par le serveur : "+receipt.Refused)
		return nil
	}
	workflow.SetCurrentDetails(ctx, "E-mail de confirmation de l'inscription "+signupID+" envoyé")
	return nil
}

// senderRun is how long one pass of the sender runs before its workflow
// starts afresh, keeping its history short.
const senderRun = 30 * time.Minute

// SignupConfirmations is the deployment's sender of confirmation emails:
// a sign-up is only a row, answered at once, and this workflow's activity
// sends what is pending, in order, at the mail relay's pace. A worker that
// dies stops heartbeating, and another takes the activity over.
func SignupConfirmations(ctx workflow.Context) error {
	workflow.SetCurrentDetails(ctx, "Envoi des e-mails de confirmation des inscriptions, dans leur ordre d'arrivée")
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: senderRun + 5*time.Minute,
		HeartbeatTimeout:    30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second},
		Summary:             "envoi des confirmations en attente",
	})
	if err := workflow.ExecuteActivity(ctx, signup.ActivitySendPending, senderRun).Get(ctx, nil); err != nil {
		return err
	}
	return workflow.NewContinueAsNewError(ctx, SignupConfirmations)
}
