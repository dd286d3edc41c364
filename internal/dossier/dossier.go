// Package dossier holds the vocabulary shared by the procuration workflow,
// its activities and the API: statuses, the steps portals take and the
// records the workflow hands to its activities. Nothing here carries personal
// data, because every value of these types ends up in a Temporal history.
package dossier

import (
	"fmt"
	"time"
)

// Status is what a grantor sees (domain.md, "Statuses a grantor sees").
type Status string

const (
	AwaitingPolice   Status = "awaiting_police"
	AwaitingTownHall Status = "awaiting_town_hall"
	Validated        Status = "validated"
	Invalidated      Status = "invalidated"
	Refused          Status = "refused"
	Cancelled        Status = "cancelled"
	Expired          Status = "expired"
)

// Final reports whether no portal action can change the dossier any more.
func (s Status) Final() bool {
	switch s {
	case Invalidated, Refused, Cancelled, Expired:
		return true
	}
	return false
}

// French is the status as a grantor reads it in an email or a portal.
func (s Status) French() string {
	switch s {
	case AwaitingPolice:
		return "en attente de vérification par la police ou la gendarmerie"
	case AwaitingTownHall:
		return "en attente de décision de la mairie"
	case Validated:
		return "validée"
	case Invalidated:
		return "invalidée"
	case Refused:
		return "refusée par la police ou la gendarmerie"
	case Cancelled:
		return "résiliée"
	case Expired:
		return "expirée"
	}
	return string(s)
}

// ReviewMode is how the town hall step is taken, per deployment: by an agent
// (the 2021 flow) or by the register's automatic checks (since 2022).
type ReviewMode string

const (
	ReviewManual    ReviewMode = "manual"
	ReviewAutomatic ReviewMode = "automatic"
)

func ParseReviewMode(s string) (ReviewMode, error) {
	switch ReviewMode(s) {
	case ReviewManual, ReviewAutomatic:
		return ReviewMode(s), nil
	}
	return "", fmt.Errorf("town hall review %q: want manual or automatic", s)
}

// Policy is the deployment's timing and review settings, copied into each
// dossier at creation so that a running dossier keeps the rules it began with.
type Policy struct {
	Review ReviewMode
	// Grantor reminders while no police visit has happened.
	PoliceFirstReminder time.Duration
	PoliceReminderEvery time.Duration
	BeforeRoundReminder time.Duration
	// Electoral service reminders while a dossier waits at the town hall.
	TownHallFirstReminder time.Duration
	TownHallReminderEvery time.Duration
}

// DefaultPolicy is the timing: 2 days then every 5 days, 3 days
// before the first round; the town hall after 24 hours, then daily.
func DefaultPolicy() Policy {
	return Policy{
		Review:                ReviewManual,
		PoliceFirstReminder:   48 * time.Hour,
		PoliceReminderEvery:   5 * 24 * time.Hour,
		BeforeRoundReminder:   3 * 24 * time.Hour,
		TownHallFirstReminder: 24 * time.Hour,
		TownHallReminderEvery: 24 * time.Hour,
	}
}

// Start is the workflow input. Personal data stays in PostgreSQL; the
// workflow knows the dossier by its reference only.
type Start struct {
	Reference   string
	CommuneCode string
	// CommuneName is for the people who read the workflow in the Web UI.
	CommuneName string `json:",omitempty"`
	// ValidUntil is the instant the procuration stops covering anything.
	ValidUntil time.Time
	// FirstRound is the start of the first covered round's day, zero for a
	// period scope.
	FirstRound time.Time
	// DigitalIdentity is set when the grantor signed in with a certified
	// digital identity (acr eidas2 or eidas3): no police visit is needed.
	DigitalIdentity bool
	// Policy was set by the API for dossiers started before the worker
	// decided it; a zero policy means "the worker's".
	Policy Policy
	// Resume continues a dossier whose workflow was lost, from the read model.
	Resume *Resume `json:",omitempty"`
}

// Resume is where a dossier stood when its workflow was lost.
type Resume struct {
	Status       Status
	Seq          int
	WaitingSince time.Time
}

// Actor is who took a step: the token's subject and role. Names are looked
// up from the agents table when a person must read them.
type Actor struct {
	Sub  string `json:"sub"`
	Role string `json:"role"`
}

// SystemActor takes the steps no person takes: expiry, automatic review.
var SystemActor = Actor{Sub: "system", Role: "system"}

// SupportActor is support staff acting from the Temporal Web UI, whose
// identity the workflow cannot see.
var SupportActor = Actor{Sub: "temporal-ui", Role: "support"}

const (
	PoliceVerified = "verified"
	PoliceRefused  = "refused"

	TownHallValidated   = "validated"
	TownHallInvalidated = "invalidated"
)

// PoliceVerification is the police portal's update.
type PoliceVerification struct {
	Actor   Actor
	Outcome string
	Rank    string
	Unit    string
	// IDDocumentKind is the kind of document checked ("cni", "passeport",
	// ...); its number is kept only as a keyed fingerprint, never in clear.
	IDDocumentKind        string
	IDDocumentFingerprint string
	// ReasonNote is the id of the refusal reason the agent typed, kept in
	// PostgreSQL: free text may name people.
	ReasonNote string
}

// TownHallDecision is the town hall portal's update.
type TownHallDecision struct {
	Actor      Actor
	Outcome    string
	ReasonNote string
}

// Cancellation is the grantor's update.
type Cancellation struct {
	Actor Actor
}

// Step is what the workflow asks the read-model activity to record. Seq
// orders steps within a dossier and makes recording idempotent.
type Step struct {
	Reference string
	Seq       int
	Status    Status
	At        time.Time
	Actor     Actor
	Action    string
	Police    *PoliceStep   `json:",omitempty"`
	TownHall  *TownHallStep `json:",omitempty"`
}

type PoliceStep struct {
	AgentSub              string
	Rank                  string
	Unit                  string
	Outcome               string
	IDDocumentKind        string
	IDDocumentFingerprint string
	ReasonNote            string
	// DigitalIdentity marks the step as satisfied by France Identité.
	DigitalIdentity bool
}

type TownHallStep struct {
	Outcome string
	// Reason is a reason the system gives (the automatic review's);
	// ReasonNote points to one an agent typed.
	Reason     string
	ReasonNote string
	// Automatic marks a decision taken by the register's checks.
	Automatic bool
}

// MailKind names an email template.
type MailKind string

const (
	MailSubmission          MailKind = "submission"
	MailPoliceReceipt       MailKind = "police_receipt"
	MailPoliceRefused       MailKind = "police_refused"
	MailDigitalIdentity     MailKind = "digital_identity"
	MailValidated           MailKind = "validated"
	MailInvalidated         MailKind = "invalidated"
	MailCancelled           MailKind = "cancelled"
	MailExpired             MailKind = "expired"
	MailPoliceReminder      MailKind = "police_reminder"
	MailBeforeRoundReminder MailKind = "before_round_reminder"
	MailTownHallReminder    MailKind = "town_hall_reminder"
	// MailHolderInformed goes to the holder, at the address the grantor
	// gave with their consent; without one it is recorded as not sent.
	MailHolderInformed MailKind = "holder_informed"
	// MailHolderCancelled tells that holder, once informed, that the
	// procuration was cancelled.
	MailHolderCancelled MailKind = "holder_cancelled"
)

// Mail asks the mail activity for one email. Key is unique per email a
// dossier may ever send, so a retried activity finds it already sent.
type Mail struct {
	Key       string
	Kind      MailKind
	Reference string
	// Count is the reminder's number, or how long the dossier has waited
	// in days for the town hall reminder.
	Count int
}

// SlotOutcome is the register and cap check's answer.
type SlotOutcome struct {
	Reserved bool
	// Reason says in French why the slot was refused.
	Reason string
}

// MailKey is the email's once-only key.
func (m Mail) MailKey() string { return m.Key }

// MailSummary names the email in the Web UI.
func (m Mail) MailSummary() string { return "e-mail " + string(m.Kind) }
