package dossier

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/procurations/procuration/internal/outbox"
)

// The procuration workflow's contract: what the API starts and updates,
// what the worker registers, what support staff search for. Nothing else
// names these.
const (
	WorkflowName = "Procuration"

	UpdatePoliceVerification = "police-verification"
	UpdateTownHallDecision   = "town-hall-decision"
	UpdateCancel             = "cancel"
	QueryStatus              = "status"
)

// Activities, by their registered names.
const (
	ActivityRecordStep  = "RecordStep"
	ActivityReserveSlot = "ReserveProxySlot"
	ActivityReleaseSlot = "ReleaseProxySlot"
	ActivitySendMail    = "SendMail"
)

// WorkflowID derives the workflow ID from the dossier reference, so a
// portal holding a reference reaches the workflow without a lookup.
func WorkflowID(reference string) string { return "procuration-" + reference }

// Search attributes support staff filter on. None carries personal data.
var (
	StatusAttribute       = temporal.NewSearchAttributeKeyKeyword("ProcurationStatus")
	CommuneAttribute      = temporal.NewSearchAttributeKeyKeyword("CommuneCode")
	WaitingSinceAttribute = temporal.NewSearchAttributeKeyTime("WaitingSince")
	ValidUntilAttribute   = temporal.NewSearchAttributeKeyTime("ValidUntil")
	RemindersAttribute    = temporal.NewSearchAttributeKeyInt64("RemindersSent")
)

// SearchAttributes lists the keys the workflow sets.
func SearchAttributes() []temporal.SearchAttributeUpdate {
	return []temporal.SearchAttributeUpdate{
		StatusAttribute.ValueSet(""), CommuneAttribute.ValueSet(""), WaitingSinceAttribute.ValueSet(time.Time{}),
		ValidUntilAttribute.ValueSet(time.Time{}), RemindersAttribute.ValueSet(0), outbox.AlertAttribute.ValueSet(""),
	}
}

// StartAttributes are set at start so that a dossier is findable in the
// Web UI before its first workflow task runs.
func StartAttributes(commune string, validUntil time.Time) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(StatusAttribute.ValueSet(string(AwaitingPolice)), CommuneAttribute.ValueSet(commune),
		ValidUntilAttribute.ValueSet(validUntil))
}

// Update failure types the API maps to 409.
const (
	// ErrWrongState: the dossier's status does not allow the action; the
	// error's details hold the status.
	ErrWrongState = "WrongState"
	// ErrCapReached: the holder already holds what L73 allows.
	ErrCapReached = "CapReached"
)

// WrongState is the update failure for an action the status forbids.
func WrongState(s Status) error {
	return temporal.NewApplicationError(fmt.Sprintf("the dossier is %s", s), ErrWrongState, string(s))
}

// IsWrongState reads the status out of an update failure, if it is one.
func IsWrongState(err error) (Status, bool) {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() == ErrWrongState {
		var s string
		if app.HasDetails() && app.Details(&s) == nil {
			return Status(s), true
		}
		return "", true
	}
	return "", false
}

// CapReached reads the French reason out of an update failure, if it is one.
func CapReached(err error) (string, bool) {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() == ErrCapReached {
		return app.Message(), true
	}
	return "", false
}

// State is what the status query returns.
type State struct {
	Status        Status
	WaitingSince  time.Time
	RemindersSent int
}
