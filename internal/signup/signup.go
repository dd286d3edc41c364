// Package signup is the contract of the workflow that confirms a matching
// platform's sign-up by email.
package signup

const WorkflowName = "Signup"

// WorkflowID derives the workflow ID from the sign-up's.
func WorkflowID(id string) string { return "signup-" + id }

// ActivitySendConfirmation sends the confirmation email.
const ActivitySendConfirmation = "SendConfirmation"

// ConfirmationKey is the once-only key of the confirmation email.
func ConfirmationKey(id string) string { return "signup/" + id + "/confirmation" }

// The confirmations' sender: one workflow for the deployment, whose
// activity sends the pending confirmation emails in order, at the pace
// the mail relay accepts.
const (
	SenderWorkflowName  = "SignupConfirmations"
	SenderWorkflowID    = "signup-confirmations"
	ActivitySendPending = "SendPendingConfirmations"
)
