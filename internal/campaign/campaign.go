// Package campaign is the contract of a matching campaign's workflows: its
// lifetime (scheduled runs until the election ends, personal data deleted
// after the retention period) and its matching runs.
package campaign

import (
	"time"

	"go.temporal.io/sdk/temporal"
)

const (
	LifeWorkflowName = "Campaign"
	RunWorkflowName  = "MatchingRun"
	// OffersWorkflowName starts the workflows of a campaign's proposals.
	OffersWorkflowName = "MatchingOffers"
	// SignalMore tells the offers workflow of new proposals (More).
	SignalMore = "more"
	// QueryOffers answers the offers workflow's OffersProgress.
	QueryOffers = "progress"
)

// Activities, by their registered names.
const (
	ActivityRunMatching = "RunMatching"
	ActivityStartOffers = "StartOffers"
	// ActivityRequestRematch puts a campaign's matching on the offers
	// workflow's list (a match whose dossier failed calls it).
	ActivityRequestRematch = "RequestRematch"
	ActivityClose          = "CloseCampaign"
	ActivityPurge          = "PurgeCampaign"
	// ActivityNotifyUnmatched tells a round's requesters still without a
	// volunteer (Notice), some days before the round.
	ActivityNotifyUnmatched = "NotifyUnmatched"
)

// LifeWorkflowID derives the lifetime workflow's ID from the campaign's.
func LifeWorkflowID(id string) string { return "campaign-" + id }

// RunWorkflowID names the workflows the campaign's schedule starts.
func RunWorkflowID(id string) string { return "matching-run-" + id }

// RunsTaskQueue is the queue of a campaign's offers and bulk jobs, beside
// the deployment's: a run's next batch must not wait behind the first
// tasks of the thousands of matches it has just started.
func RunsTaskQueue(taskQueue string) string { return taskQueue + "-runs" }

// OffersWorkflowID names a campaign's one offers workflow.
func OffersWorkflowID(id string) string { return "matching-offers-" + id }

// Offers is the offers workflow's input; Progress carries over a
// continue-as-new.
type Offers struct {
	Campaign string
	Progress OffersProgress
	Rematch  bool
	// RematchDelay gathers the requesters sent back at the same moment
	// into one run.
	RematchDelay time.Duration
}

// More is the signal of new work: proposals stored (Proposed), or a
// matching to run again soon (Rematch).
type More struct {
	Proposed     int
	Rematch      bool
	RematchDelay time.Duration
}

// OffersBatch is what one start of a batch of offers did; Left are the
// campaign's proposals still waiting for their workflow.
type OffersBatch struct {
	Started int
	Left    int
}

// OffersProgress is what the offers workflow has done.
type OffersProgress struct {
	Proposed  int
	Started   int
	Left      int
	Rematches int
}

// ScheduleID names the schedule that runs a campaign's matching.
func ScheduleID(id string) string { return "matching-" + id }

// Attribute names the campaign of a match or campaign workflow.
var Attribute = temporal.NewSearchAttributeKeyKeyword("CampaignId")

// Life is the lifetime workflow's input.
type Life struct {
	Campaign    string
	ElectionEnd time.Time
	Retention   time.Duration
	// Rounds are the election's; UnmatchedNotice before each one still
	// ahead, its requesters without a volunteer are told so. Workflows
	// started before the notices existed have neither.
	Rounds          []Round       `json:",omitempty"`
	UnmatchedNotice time.Duration `json:",omitempty"`
}

// DefaultUnmatchedNotice leaves ten days to find another way: time enough
// to ask someone one knows and have the procuration established.
const DefaultUnmatchedNotice = 10 * 24 * time.Hour

// Round is one round of the campaign's election.
type Round struct {
	Number int
	// Date is the round's day, YYYY-MM-DD, as the election lists it.
	Date string
}

// Notice is the input of the notice to a round's requesters still without
// a volunteer.
type Notice struct {
	Campaign string
	Round    int
	Date     string
}

// NoticeReport counts what a notice did, and nothing more: the people stay
// in PostgreSQL.
type NoticeReport struct {
	// Told are the requesters emailed; Refused those whose address the mail
	// relay refused for good.
	Told    int
	Refused int
}
