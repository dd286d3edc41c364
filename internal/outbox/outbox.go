// Package outbox is the contract between the workflows and their email
// activities: each email is sent at most once per key, and what the
// activity reports lets the workflow finish the bookkeeping without ever
// sending again.
package outbox

import "go.temporal.io/sdk/temporal"

// Receipt is what an email activity reports.
type Receipt struct {
	// Unmarked: the mail server took the email but its record could not be
	// marked sent; the workflow marks it in a step of its own, never by
	// sending again.
	Unmarked bool `json:",omitempty"`
	// Refused says why the mail server refused the email for good (a 5xx
	// answer); it is recorded and not retried.
	Refused string `json:",omitempty"`
}

// MarkSentActivity marks an email sent by its key.
const MarkSentActivity = "MarkMailSent"

// AlertAttribute flags a workflow that needs a person's attention (an
// email refused for good, a step the database keeps refusing); empty
// otherwise. Support staff search for it.
var AlertAttribute = temporal.NewSearchAttributeKeyKeyword("Alert")

// ErrPermanent is the type of an activity failure that retrying cannot fix.
const ErrPermanent = "Permanent"
