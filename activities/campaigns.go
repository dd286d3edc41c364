package activities

import (
	"context"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"

	"errors"

	"github.com/procurations/procuration/internal/matchrun"
	"github.com/procurations/procuration/internal/store"
)

// Campaigns carries what a campaign's lifetime activities need.
type Campaigns struct {
	Store    *store.Store
	Runner   *matchrun.Runner
	Temporal client.Client
}

// MatchingScheduleID names the schedule that runs a campaign's matching.
func MatchingScheduleID(campaign string) string { return "matching-" + campaign }

// RunMatching is the scheduled run. A retry after a partial run proposes
// nothing twice: the matches it made hold their people's rounds.
func (a *Campaigns) RunMatching(ctx context.Context, campaign string) (int, error) {
	res, err := a.Runner.Run(ctx, campaign, false, activity.GetInfo(ctx).StartedTime)
	return len(res.Proposals), err
}

// CloseCampaign stops the scheduled runs once the election is over.
func (a *Campaigns) CloseCampaign(ctx context.Context, campaign string) error {
	err := a.Temporal.ScheduleClient().GetHandle(ctx, MatchingScheduleID(campaign)).Delete(ctx)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return nil
	}
	return err
}

// PurgeCampaign deletes the campaign's personal data.
func (a *Campaigns) PurgeCampaign(ctx context.Context, campaign string) (int, error) {
	return a.Store.PurgeCampaign(ctx, campaign)
}
