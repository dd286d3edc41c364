package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/procurations/procuration/internal/outbox"
)

// flow is the machinery the dossier and the match workflows share, so that
// each reads as its business steps: steps serialised by a mutex and recorded
// before the workflow moves on, an outbox of emails sent in order and at
// most once, waits whose timers end with them, and what support sees.
type flow struct {
	mu workflow.Mutex
	// seq numbers the recorded steps; recording is idempotent by it.
	seq int
	// since is when the current status began.
	since time.Time
	// last says, in French, the last thing that happened.
	last  string
	mails []letter
	// mailActivity sends one letter.
	mailActivity string
	// local: database steps run as local activities (version "local-steps" 1).
	local bool
	// cancelTimers: a wait that ends early cancels its timer (version
	// "cancel-timers" 1), so a workflow's pending timers are the ones it
	// still needs.
	cancelTimers bool
	// alert flags what needs a person (search attribute Alert).
	alert string
}

// letter is an email a workflow asks for.
type letter interface {
	MailKey() string
	MailSummary() string
}

const (
	localStepsChange   = "local-steps"
	cancelTimersChange = "cancel-timers"
)

func newFlow(ctx workflow.Context, mailActivity string) *flow {
	f := &flow{mailActivity: mailActivity, seq: 1}
	// Workflows started before a change replay as they ran.
	f.local = workflow.GetVersion(ctx, localStepsChange, workflow.DefaultVersion, 1) >= 1
	f.cancelTimers = workflow.GetVersion(ctx, cancelTimersChange, workflow.DefaultVersion, 1) >= 1
	f.mu = workflow.NewMutex(ctx)
	f.since = workflow.Now(ctx)
	return f
}

// lock takes the step mutex; the caller defers the returned unlock.
func (f *flow) lock(ctx workflow.Context) (func(), error) {
	if err := f.mu.Lock(ctx); err != nil {
		return nil, err
	}
	return f.mu.Unlock, nil
}

// step runs a short database activity: locally from version "local-steps"
// 1 on, retried for as long as the database is away either way, but not
// when it refuses the data for good.
func (f *flow) step(ctx workflow.Context, summary, activity string, args ...any) workflow.Future {
	retry := &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: time.Minute,
		NonRetryableErrorTypes: []string{outbox.ErrPermanent}}
	if !f.local {
		retry.InitialInterval = time.Second
		return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 30 * time.Second, Summary: summary, RetryPolicy: retry,
		}), activity, args...)
	}
	return workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 10 * time.Second, ScheduleToCloseTimeout: 30 * 24 * time.Hour, Summary: summary, RetryPolicy: retry,
	}), activity, args...)
}

// moved records that a step took the workflow to a new status at now.
func (f *flow) moved(seq int, at time.Time, last string) {
	f.seq, f.since, f.last = seq, at, last
}

// queue adds an email to the outbox.
func (f *flow) queue(l letter) { f.mails = append(f.mails, l) }

// queued is how many emails wait; a wait ends when it changes.
func (f *flow) queued() int { return len(f.mails) }

// send sends what handlers and timers queued, in order. A failed send is
// retried for as long as the mail server is away: an email is late rather
// than lost. One the server refused for good is recorded and flagged; a
// record the database could not mark is marked in a step of its own.
func (f *flow) send(ctx workflow.Context) error {
	for len(f.mails) > 0 {
		m := f.mails[0]
		var receipt outbox.Receipt
		if err := workflow.ExecuteActivity(mailContext(ctx, m.MailSummary()), f.mailActivity, m).Get(ctx, &receipt); err != nil {
			return err
		}
		if receipt.Unmarked {
			if err := f.step(ctx, "noter l'envoi : "+m.MailSummary(), outbox.MarkSentActivity, m.MailKey()).Get(ctx, nil); err != nil {
				return err
			}
		}
		if receipt.Refused != "" {
			f.flag(ctx, "email_refused", m.MailSummary()+" refusé par le serveur de messagerie ("+receipt.Refused+")")
		}
		f.mails = f.mails[1:]
	}
	return nil
}

// flag raises an alert support staff can search for.
func (f *flow) flag(ctx workflow.Context, code, what string) {
	f.alert = code + ": " + what
	_ = workflow.UpsertTypedSearchAttributes(ctx, outbox.AlertAttribute.ValueSet(code))
	workflow.GetLogger(ctx).Error("needs attention", "alert", code)
}

// waitUntil blocks until changed() holds or until passes, on a timer named
// summary in the Web UI. It reports whether the time passed with nothing
// changing. From version "cancel-timers" 1 a wait that ends early cancels
// its timer.
func (f *flow) waitUntil(ctx workflow.Context, until time.Time, summary string, changed func() bool) (bool, error) {
	d := until.Sub(workflow.Now(ctx))
	if d <= 0 {
		return !changed(), nil
	}
	if !f.cancelTimers {
		ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: d, TimerOptions: workflow.TimerOptions{Summary: summary}}, changed)
		return !ok, err
	}
	if changed() {
		return false, nil
	}
	timerCtx, cancel := workflow.WithCancel(ctx)
	timer := workflow.NewTimerWithOptions(timerCtx, d, workflow.TimerOptions{Summary: summary})
	err := workflow.Await(ctx, func() bool { return timer.IsReady() || changed() })
	if err == nil && timer.IsReady() && !changed() {
		return true, timer.Get(ctx, nil)
	}
	cancel()
	return false, err
}

// cancelled reports a Temporal-level cancellation (support pressed
// "Request Cancellation" in the Web UI).
func cancelled(ctx workflow.Context, err error) bool {
	return ctx.Err() != nil && (temporal.IsCanceledError(err) || errors.Is(err, workflow.ErrCanceled))
}

// drive is a workflow's main loop: send what is queued, then take the step
// the status calls for, until the status is final. interrupted says what
// an error means, and whether the workflow ends with it.
func (f *flow) drive(ctx workflow.Context, final func() bool, next func(workflow.Context) error, interrupted func(error) (bool, error)) error {
	for !final() {
		err := f.send(ctx)
		if err == nil {
			err = next(ctx)
		}
		if err != nil {
			if done, err := interrupted(err); done {
				return err
			}
		}
	}
	return f.finish(ctx)
}

// finish lets running handlers record their steps, then sends what they
// queued.
func (f *flow) finish(ctx workflow.Context) error {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	return f.send(ctx)
}

// permanent reports a step the database refuses for good.
func permanent(err error) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.Type() == outbox.ErrPermanent
}

// mailContext retries for as long as the mail server is away.
func mailContext(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		Summary:             summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
			NonRetryableErrorTypes: []string{outbox.ErrPermanent},
		},
	})
}

// activityContext is for the campaign's long activities.
func activityContext(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		Summary:             summary,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
}
