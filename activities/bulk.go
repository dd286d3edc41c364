package activities

import (
	"context"
	"sync"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/procurations/procuration/internal/campaign"
	"github.com/procurations/procuration/internal/errs"
)

// Bulk carries what a bulk approval's batches need: the service's approval
// of several matches, which checks the actor's right again.
type Bulk struct {
	Approve func(ctx context.Context, b campaign.BulkBatch) ([]campaign.BulkItem, error)
	// Parallel updates of one batch; 1 when unset.
	Parallel int
}

// ApproveBatch approves or rejects one batch, a few updates at a time,
// heartbeating as it goes.
func (a *Bulk) ApproveBatch(ctx context.Context, b campaign.BulkBatch) ([]campaign.BulkItem, error) {
	n := max(a.Parallel, 1)
	out := make([]campaign.BulkItem, len(b.IDs))
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(b.IDs); i += n {
				part := b
				part.IDs = b.IDs[i : i+1]
				items, err := a.Approve(ctx, part)
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				if len(items) == 1 {
					out[i] = items[0]
				}
				mu.Unlock()
				activity.RecordHeartbeat(ctx, i)
			}
		}()
	}
	wg.Wait()
	if e, ok := errs.As(first); ok && (e.Kind == errs.KindForbidden || e.Kind == errs.KindNotFound || e.Kind == errs.KindInvalid) {
		// A right gone or a campaign unknown: retrying changes nothing.
		return nil, temporal.NewNonRetryableApplicationError(e.Message, "refused", first)
	}
	return out, first
}
