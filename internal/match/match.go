// Package match holds the vocabulary the match workflow, its activities and
// the API share. Like dossier, nothing here carries personal data: people
// are named by their sign-up ids.
package match

import "time"

type Status string

// Statuses (contract.md, "Matching").
const (
	Proposed          Status = "proposed"
	AwaitingAnswer    Status = "awaiting_answer"
	Accepted          Status = "accepted"
	ProcurationLinked Status = "procuration_linked"
	Completed         Status = "completed"
	Declined          Status = "declined"
	Expired           Status = "expired"
	Rejected          Status = "rejected"
	Cancelled         Status = "cancelled"
)

// Final reports whether the match is over.
func (s Status) Final() bool {
	switch s {
	case Completed, Declined, Expired, Rejected, Cancelled:
		return true
	}
	return false
}

// Live reports whether the match holds its people's rounds.
func (s Status) Live() bool {
	switch s {
	case Declined, Expired, Rejected, Cancelled:
		return false
	}
	return true
}

// Parties of a match.
const (
	Requester = "requester"
	Volunteer = "volunteer"
)

// Settings are the campaign's timing, copied into each match at its start.
type Settings struct {
	RequireApproval bool
	// AnswerWindow is how long both parties have to answer; the deadline is
	// brought forward to end at least AnswerBeforeRound before the first round.
	AnswerWindow      time.Duration
	AnswerBeforeRound time.Duration
	// Reminders to link the official dossier, counted from acceptance, and
	// one LinkBeforeRound before the first round.
	LinkReminders   []time.Duration
	LinkBeforeRound time.Duration
	// DossierCheckEvery is how often a linked dossier's status is read.
	DossierCheckEvery time.Duration
}

// DefaultSettings: 48 hours to answer, ending 3 days before the round at
// the latest; link reminders 2 and 5 days after acceptance and 3 days
// before the round; the dossier read every 6 hours.
func DefaultSettings() Settings {
	return Settings{
		AnswerWindow: 48 * time.Hour, AnswerBeforeRound: 72 * time.Hour,
		LinkReminders: []time.Duration{48 * time.Hour, 120 * time.Hour}, LinkBeforeRound: 72 * time.Hour,
		DossierCheckEvery: 6 * time.Hour,
	}
}

// Start is the match workflow's input.
type Start struct {
	MatchID    string
	Campaign   string
	Rounds     []int
	FirstRound time.Time
	// ElectionEnd is when every open match of the campaign ends.
	ElectionEnd time.Time
	Settings    Settings
}

// Actor is who acted: a token's subject and role.
type Actor struct {
	Sub  string `json:"sub"`
	Role string `json:"role"`
}

var System = Actor{Sub: "system", Role: "system"}

type Approval struct {
	Actor   Actor
	Outcome string // approved | rejected
}

type Answer struct {
	Actor   Actor
	Party   string // requester | volunteer
	Outcome string // accepted | declined
}

type Link struct {
	Actor     Actor
	Reference string
}

// Step is what the workflow asks the read-model activity to record.
type Step struct {
	MatchID string
	Seq     int
	Status  Status
	At      time.Time
	Actor   Actor
	Action  string
	// OfferedAt and Deadline are set when the offer goes out.
	Deadline  *time.Time `json:",omitempty"`
	Answer    *Answer    `json:",omitempty"`
	Reference string     `json:",omitempty"`
	// EndReason says why a match ended, in French, for the people told.
	EndReason string `json:",omitempty"`
	// DeclinedPair records the pair so that it is never proposed again.
	DeclinedPair bool `json:",omitempty"`
	// Withdraw lists the parties taken out of the pool (missed the deadline).
	Withdraw []string `json:",omitempty"`
	// FirstInLine puts the requester back in the pool ahead of others.
	FirstInLine bool `json:",omitempty"`
}

// MailKind names a match email template.
type MailKind string

const (
	MailOffer          MailKind = "match_offer"
	MailAnswerReminder MailKind = "match_answer_reminder"
	MailContacts       MailKind = "match_contacts"
	MailLinkReminder   MailKind = "match_link_reminder"
	MailEnded          MailKind = "match_ended"
	MailCompleted      MailKind = "match_completed"
)

// Mail asks for one email to one party; Key makes it once-only.
type Mail struct {
	Key     string
	Kind    MailKind
	MatchID string
	Party   string
	Count   int
}

// French is the status as the people of a match read it.
func (s Status) French() string {
	switch s {
	case Proposed:
		return "proposée"
	case AwaitingAnswer:
		return "en attente des réponses"
	case Accepted:
		return "acceptée par les deux personnes"
	case ProcurationLinked:
		return "liée à une demande de procuration"
	case Completed:
		return "aboutie"
	case Declined:
		return "déclinée"
	case Expired:
		return "expirée faute de réponse"
	case Rejected:
		return "non retenue"
	case Cancelled:
		return "annulée"
	}
	return string(s)
}

// MailKey is the email's once-only key.
func (m Mail) MailKey() string { return m.Key }

// MailSummary names the email in the Web UI.
func (m Mail) MailSummary() string { return "e-mail " + string(m.Kind) + " à " + m.Party }

// Support is support staff acting from the Temporal Web UI.
var Support = Actor{Sub: "temporal-ui", Role: "support"}
