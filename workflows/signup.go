package workflows

import (
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
