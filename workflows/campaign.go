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

// MatchingOffers starts, in the background, the workflows of the proposals
// a campaign's runs stored, a batch at a time and as fast as the Temporal
// server takes them; its progress is its current details and a query. There
// is one per campaign: runs tell it of their proposals by a signal, and a
// match whose dossier failed asks it to run the matching again after
// Offers.RematchDelay, gathering those of the same moment. A crash loses
// nothing: a proposal is marked once its workflow has started.
func MatchingOffers(ctx workflow.Context, in campaign.Offers) (campaign.OffersProgress, error) {
	_ = workflow.UpsertTypedSearchAttributes(ctx, campaign.Attribute.ValueSet(in.Campaign))
	p, rematch := in.Progress, in.Rematch
	if err := workflow.SetQueryHandler(ctx, campaign.QueryOffers, func() (campaign.OffersProgress, error) { return p, nil }); err != nil {
		return p, err
	}
	more := workflow.GetSignalChannel(ctx, campaign.SignalMore)
	drain := func() (got bool) {
		var m campaign.More
		for more.ReceiveAsync(&m) {
			got = true
			p.Proposed += m.Proposed
			rematch = rematch || m.Rematch
			if m.RematchDelay > 0 {
				in.RematchDelay = m.RematchDelay
			}
		}
		return got
	}
	show := func() {
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("Campagne **%s** : %d propositions, %d offres démarrées, %d en attente ; %d nouvelles mises en relation après un dossier qui n'a pas abouti.",
			in.Campaign, p.Proposed, p.Started, p.Left, p.Rematches))
	}
	starts := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute, HeartbeatTimeout: time.Minute, Summary: "démarrer un lot d'offres",
		// The server busy or down: wait for it, however long.
		RetryPolicy: &temporal.RetryPolicy{MaximumInterval: time.Minute},
	})
	drain()
	for {
		if rematch {
			if err := workflow.NewTimerWithOptions(ctx, in.RematchDelay, workflow.TimerOptions{Summary: "regrouper les demandeurs à remettre en relation"}).
				Get(ctx, nil); err != nil {
				return p, err
			}
			drain()
			rematch = false
			run := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
				StartToCloseTimeout: 30 * time.Minute, Summary: "mise en relation des demandeurs revenus en tête de file",
				RetryPolicy: &temporal.RetryPolicy{MaximumInterval: time.Minute},
			})
			// The run signals its proposals, as any run does.
			if err := workflow.ExecuteActivity(run, campaign.ActivityRunMatching, in.Campaign).Get(ctx, nil); err != nil {
				return p, err
			}
			p.Rematches++
			drain()
		}
		for {
			var b campaign.OffersBatch
			if err := workflow.ExecuteActivity(starts, campaign.ActivityStartOffers, in.Campaign).Get(ctx, &b); err != nil {
				return p, err
			}
			p.Started += b.Started
			p.Left = b.Left
			show()
			if b.Left == 0 {
				break
			}
			if b.Started == 0 {
				// What is left is another worker's, under its lease.
				if err := workflow.NewTimerWithOptions(ctx, time.Minute, workflow.TimerOptions{Summary: "offres en cours ailleurs"}).Get(ctx, nil); err != nil {
					return p, err
				}
			}
		}
		if !drain() && !rematch {
			return p, nil
		}
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return p, workflow.NewContinueAsNewError(ctx, MatchingOffers, campaign.Offers{Campaign: in.Campaign, Progress: p, Rematch: rematch,
				RematchDelay: in.RematchDelay})
		}
	}
}
