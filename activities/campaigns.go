package activities

import (
	"context"

	"github.com/procurations/procuration/internal/campaign"

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
	// StartsParallel are the match workflows started at a time.
	StartsParallel int
}

// offersPerBatch is how many proposals one StartOffers call starts: a few
// seconds of work, so that the workflow's progress moves often.
const offersPerBatch = 500

// StartOffers starts the workflows of a batch of the campaign's proposals.
func (a *Campaigns) StartOffers(ctx context.Context, id string) (campaign.OffersBatch, error) {
	return a.Runner.StartOffers(ctx, id, offersPerBatch, a.StartsParallel, func(done int) { activity.RecordHeartbeat(ctx, done) })
}

// RequestRematch asks the campaign's offers workflow to run the matching
// again soon, for a requester back at the head of the line.
func (a *Campaigns) RequestRematch(ctx context.Context, id string) error {
	return a.Runner.RequestOffers(ctx, id, campaign.More{Rematch: true})
}

// RunMatching is the scheduled run. A retry after a partial run proposes
// nothing twice: the matches it made hold their people's rounds.
func (a *Campaigns) RunMatching(ctx context.Context, id string) (int, error) {
	res, err := a.Runner.Run(ctx, id, false, activity.GetInfo(ctx).StartedTime)
	return len(res.Proposals), err
}

// CloseCampaign stops the scheduled runs once the election is over.
func (a *Campaigns) CloseCampaign(ctx context.Context, id string) error {
	err := a.Temporal.ScheduleClient().GetHandle(ctx, campaign.ScheduleID(id)).Delete(ctx)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return nil
	}
	return err
}

// PurgeCampaign deletes the campaign's personal data.
func (a *Campaigns) PurgeCampaign(ctx context.Context, id string) (int, error) {
	return a.Store.PurgeCampaign(ctx, id)
}
