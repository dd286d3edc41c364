package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// awaitUntil blocks until changed() holds or until passes, whichever comes
// first, on a timer named summary in the Web UI. It reports whether the time
// passed with nothing changing.
func awaitUntil(ctx workflow.Context, until time.Time, summary string, changed func() bool) (bool, error) {
	d := until.Sub(workflow.Now(ctx))
	if d <= 0 {
		return !changed(), nil
	}
	ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: d, TimerOptions: workflow.TimerOptions{Summary: summary}}, changed)
	return !ok, err
}
