package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/procurations/procuration/activities"
)

var signupActs *activities.Signups

// Signup sends a matching platform's confirmation email, retrying until the
// mail server takes it: the person's only way into the pool is that link.
func Signup(ctx workflow.Context, signupID string) error {
	workflow.SetCurrentDetails(ctx, "sending the confirmation email of sign-up "+signupID)
	if err := workflow.ExecuteActivity(mailContext(ctx, "email: sign-up confirmation"), signupActs.SendConfirmation, signupID).Get(ctx, nil); err != nil {
		return err
	}
	workflow.SetCurrentDetails(ctx, "confirmation email of sign-up "+signupID+" sent")
	return nil
}
