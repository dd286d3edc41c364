// Package signup is the contract of the workflow that confirms a matching
// platform's sign-up by email.
package signup

import "strconv"

const WorkflowName = "Signup"

// WorkflowID derives the workflow ID from the sign-up's.
func WorkflowID(id string) string { return "signup-" + id }

// ActivitySendConfirmation sends the confirmation email.
const ActivitySendConfirmation = "SendConfirmation"

// ConfirmationKey is the once-only key of the confirmation email.
func ConfirmationKey(id string) string { return "signup/" + id + "/confirmation" }

// UnmatchedKey is the once-only key of the email telling a requester that
// no volunteer was found for a round. Under "signup/<id>/", like every
// email of a sign-up, so the campaign's purge clears its recipient.
func UnmatchedKey(id string, round int) string {
	return "signup/" + id + "/unmatched/" + strconv.Itoa(round)
}

// The confirmations' sender: one workflow for the deployment, whose
// activity sends the pending confirmation emails in order, at the pace
// the mail relay accepts.
const (
	SenderWorkflowName  = "SignupConfirmations"
	SenderWorkflowID    = "signup-confirmations"
	ActivitySendPending = "SendPendingConfirmations"
)
