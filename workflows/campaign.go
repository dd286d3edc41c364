package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/procurations/procuration/internal/campaign"
	"github.com/procurations/procuration/internal/french"
)

// Campaign outlives its election by its retention period: at the end of the
// election its scheduled runs stop, and when the retention period is over
// its personal data is deleted. Durable timers, not a cron job: a worker
// down at the time does the work when it comes back.
func Campaign(ctx workflow.Context, in campaign.Life) (int, error) {
	_ = workflow.UpsertTypedSearchAttributes(ctx, campaign.Attribute.ValueSet(in.Campaign))
	purgeAt := in.ElectionEnd.Add(in.Retention)
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Campagne **%s** : mises en relation jusqu'au %s ; données personnelles supprimées le %s.",
		in.Campaign, french.Instant(in.ElectionEnd), french.Instant(purgeAt)))
	if err := workflow.NewTimerWithOptions(ctx, in.ElectionEnd.Sub(workflow.Now(ctx)),
		workflow.TimerOptions{Summary: "fin de l'élection"}).Get(ctx, nil); err != nil {
		return 0, err
	}
	if err := workflow.ExecuteActivity(activityContext(ctx, "stop the scheduled matching runs"), campaign.ActivityClose, in.Campaign).
		Get(ctx, nil); err != nil {
		return 0, err
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Campagne **%s** : élection terminée ; données personnelles supprimées le %s.",
		in.Campaign, french.Instant(purgeAt)))
	if err := workflow.NewTimerWithOptions(ctx, purgeAt.Sub(workflow.Now(ctx)),
		workflow.TimerOptions{Summary: "fin de la durée de conservation"}).Get(ctx, nil); err != nil {
		return 0, err
	}
	var purged int
	err := workflow.ExecuteActivity(activityContext(ctx, "delete the personal data"), campaign.ActivityPurge, in.Campaign).Get(ctx, &purged)
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Campagne **%s** : données personnelles de %d inscriptions supprimées.", in.Campaign, purged))
	return purged, err
}

// MatchingRun is what the campaign's schedule starts.
func MatchingRun(ctx workflow.Context, id string) (int, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute, Summary: "mise en relation de la campagne " + id,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 3},
	})
	var proposed int
	err := workflow.ExecuteActivity(ctx, campaign.ActivityRunMatching, id).Get(ctx, &proposed)
	return proposed, err
}
