package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/procurations/procuration/internal/campaign"
)

// BulkApproval approves or rejects a list of a campaign's proposals, in
// batches of campaign.BulkBatchSize, campaign.BulkParallel at a time; its
// progress is a query the back office's page reads. A batch that fails
// after its retries counts its matches as failed, and the run goes on.
func BulkApproval(ctx workflow.Context, in campaign.Bulk) (campaign.BulkProgress, error) {
	_ = workflow.UpsertTypedSearchAttributes(ctx, campaign.Attribute.ValueSet(in.Campaign))
	p := campaign.BulkProgress{Outcome: in.Outcome, Total: len(in.IDs)}
	if err := workflow.SetQueryHandler(ctx, campaign.QueryBulkProgress, func() (campaign.BulkProgress, error) { return p, nil }); err != nil {
		return p, err
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute, HeartbeatTimeout: time.Minute,
		Summary:     "mises en relation approuvées ou rejetées par lot",
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 5},
	})
	fail := func(ids []string, why string) {
		for _, id := range ids {
			p.Failed++
			if len(p.Failures) < campaign.BulkMaxFailures {
				p.Failures = append(p.Failures, campaign.BulkItem{ID: id, Error: why})
			}
		}
	}
	size := campaign.BulkBatchSize * campaign.BulkParallel
	for start := 0; start < len(in.IDs); start += size {
		type batch struct {
			ids    []string
			future workflow.Future
		}
		var wave []batch
		for i := start; i < min(start+size, len(in.IDs)); i += campaign.BulkBatchSize {
			ids := in.IDs[i:min(i+campaign.BulkBatchSize, len(in.IDs))]
			wave = append(wave, batch{ids, workflow.ExecuteActivity(ctx, campaign.ActivityApproveBatch,
				campaign.BulkBatch{Campaign: in.Campaign, Actor: in.Actor, Outcome: in.Outcome, IDs: ids})})
		}
		for _, b := range wave {
			var items []campaign.BulkItem
			if err := b.future.Get(ctx, &items); err != nil {
				fail(b.ids, "erreur interne : réessayez pour ces mises en relation")
			} else {
				for _, it := range items {
					if it.Error != "" {
						fail([]string{it.ID}, it.Error)
					} else {
						p.Succeeded++
					}
				}
			}
			p.Done += len(b.ids)
		}
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("Campagne **%s** : %d sur %d traitées (%d en échec).", in.Campaign, p.Done, p.Total, p.Failed))
	}
	p.Finished = true
	return p, nil
}
