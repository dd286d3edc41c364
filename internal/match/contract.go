package match

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/procurations/procuration/internal/campaign"
	"github.com/procurations/procuration/internal/outbox"
)

// The match workflow's contract.
const (
	WorkflowName = "Match"

	UpdateApproval = "approval"
	UpdateAnswer   = "answer"
	UpdateLink     = "link-dossier"
	QueryStatus    = "status"
	// SignalDossierChanged tells a match its linked official dossier
	// changed state: it reads the dossier at once, not at its next poll.
	SignalDossierChanged = "dossier-changed"
)

// Activities, by their registered names.
const (
	ActivityRecordStep    = "RecordMatchStep"
	ActivitySendMail      = "SendMatchMail"
	ActivityDossierStatus = "DossierStatus"
)

// WorkflowID derives the workflow ID from the match's.
func WorkflowID(matchID string) string { return "match-" + matchID }

// StatusAttribute is the match's status; matches also carry the campaign's
// attribute.
var StatusAttribute = temporal.NewSearchAttributeKeyKeyword("MatchStatus")

// SearchAttributes lists the keys the workflow sets.
func SearchAttributes() []temporal.SearchAttributeUpdate {
	return []temporal.SearchAttributeUpdate{StatusAttribute.ValueSet(""), campaign.Attribute.ValueSet(""), outbox.AlertAttribute.ValueSet("")}
}

// ErrWrongState: the match's status does not allow the action; the error's
// details hold the status.
const ErrWrongState = "WrongState"

func WrongState(s Status) error {
	return temporal.NewApplicationError(fmt.Sprintf("the match is %s", s), ErrWrongState, string(s))
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
