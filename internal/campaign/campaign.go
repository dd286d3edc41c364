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
)

// Activities, by their registered names.
const (
	ActivityRunMatching = "RunMatching"
	ActivityClose       = "CloseCampaign"
	ActivityPurge       = "PurgeCampaign"
)

// LifeWorkflowID derives the lifetime workflow's ID from the campaign's.
func LifeWorkflowID(id string) string { return "campaign-" + id }

// RunWorkflowID names the workflows the campaign's schedule starts.
func RunWorkflowID(id string) string { return "matching-run-" + id }

// ScheduleID names the schedule that runs a campaign's matching.
func ScheduleID(id string) string { return "matching-" + id }

// Attribute names the campaign of a match or campaign workflow.
var Attribute = temporal.NewSearchAttributeKeyKeyword("CampaignId")

// Life is the lifetime workflow's input.
type Life struct {
	Campaign    string
	ElectionEnd time.Time
	Retention   time.Duration
}
