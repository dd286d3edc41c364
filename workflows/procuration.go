// Package workflows holds the durable processes: one workflow per dossier.
package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/procurations/procuration/activities"
	"github.com/procurations/procuration/internal/dossier"
)

// ProcurationState is what the status query returns.
type ProcurationState = dossier.State

type procuration struct {
	in            dossier.Start
	status        dossier.Status
	waitingSince  time.Time
	remindersSent int // in the current status
	// beforeRoundSent: the reminder 3 days before the first round is sent once.
	beforeRoundSent bool
	startedAt       time.Time
	seq             int
	mails           []dossier.Mail
	mu              workflow.Mutex
	// localSteps: the read model and cap activities run as local
	// activities (version 1), saving a server round trip per portal action.
	localSteps bool
}

// Procuration runs one dossier from submission to its end.
func Procuration(ctx workflow.Context, in dossier.Start) (dossier.Status, error) {
	p := &procuration{in: in, status: dossier.AwaitingPolice, seq: 1}
	if err := p.setup(ctx); err != nil {
		return "", err
	}
	return p.run(ctx)
}

const localStepsChange = "local-steps"

func (p *procuration) setup(ctx workflow.Context) error {
	// Dossiers started before version 1 replay with regular activities.
	p.localSteps = workflow.GetVersion(ctx, localStepsChange, workflow.DefaultVersion, 1) >= 1
	p.mu = workflow.NewMutex(ctx)
	p.waitingSince = workflow.Now(ctx)
	p.startedAt = p.waitingSince
	if err := workflow.SetQueryHandlerWithOptions(ctx, dossier.QueryStatus, func() (ProcurationState, error) {
		return ProcurationState{Status: p.status, WaitingSince: p.waitingSince, RemindersSent: p.remindersSent}, nil
	}, workflow.QueryHandlerOptions{Description: "status, waiting since, reminders sent"}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, dossier.UpdatePoliceVerification, p.verify,
		workflow.UpdateHandlerOptions{Validator: p.validateVerification, Description: "police or gendarmerie: identity verified or refused"}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, dossier.UpdateTownHallDecision, p.decide,
		workflow.UpdateHandlerOptions{Validator: p.validateDecision, Description: "town hall: validated (takes a cap slot) or invalidated"}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, dossier.UpdateCancel, p.cancel,
		workflow.UpdateHandlerOptions{Validator: p.validateCancel, Description: "grantor: cancel, at any time"})
}

func (p *procuration) run(ctx workflow.Context) (dossier.Status, error) {
	p.queueMail(dossier.MailSubmission, 0)
	p.publish(ctx)
	if p.in.DigitalIdentity {
		if err := p.satisfyPoliceDigitally(ctx); err != nil {
			return "", err
		}
	}
	for !p.status.Final() {
		if err := p.sendMails(ctx); err != nil {
			return "", err
		}
		var err error
		switch p.status {
		case dossier.AwaitingPolice:
			err = p.awaitPolice(ctx)
		case dossier.AwaitingTownHall:
			if p.in.Policy.Review == dossier.ReviewAutomatic {
				err = p.reviewAutomatically(ctx)
			} else {
				err = p.awaitTownHall(ctx)
			}
		case dossier.Validated:
			err = p.awaitEnd(ctx)
		}
		if err != nil {
			return "", err
		}
	}
	// Handlers may still be recording a step; let them finish first.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return "", err
	}
	if err := p.sendMails(ctx); err != nil {
		return "", err
	}
	return p.status, nil
}

// awaitPolice waits for the police visit, reminding the grantor and
// expiring the dossier when its validity has passed. The reminder before the
// first round counts as one: the regular rhythm resumes from it.
func (p *procuration) awaitPolice(ctx workflow.Context) error {
	policy := p.in.Policy
	last := p.waitingSince
	for p.status == dossier.AwaitingPolice {
		next := last.Add(policy.PoliceReminderEvery)
		if p.remindersSent == 0 {
			next = p.waitingSince.Add(policy.PoliceFirstReminder)
		}
		kind, summary := dossier.MailPoliceReminder, "police reminder"
		if !p.beforeRoundSent && !p.in.FirstRound.IsZero() {
			// A dossier submitted in the last days gets no separate warning:
			// its submission email already carries it.
			beforeRound := p.in.FirstRound.Add(-policy.BeforeRoundReminder)
			if beforeRound.After(p.startedAt) && !beforeRound.After(next) {
				next, kind, summary = beforeRound, dossier.MailBeforeRoundReminder, "reminder before the first round"
			}
		}
		if !next.Before(p.in.ValidUntil) {
			next, kind, summary = p.in.ValidUntil, "", "expiry"
		}
		timedOut, err := p.wait(ctx, next, summary)
		if err != nil || !timedOut {
			return err
		}
		if kind == "" {
			return p.expire(ctx)
		}
		if kind == dossier.MailBeforeRoundReminder {
			p.beforeRoundSent = true
		}
		last = workflow.Now(ctx)
		p.remindersSent++
		p.queueMail(kind, p.remindersSent)
		p.publish(ctx)
		if err := p.sendMails(ctx); err != nil {
			return err
		}
	}
	return nil
}

// awaitTownHall waits for the agent's decision, reminding the commune's
// electoral service after a day and then daily.
func (p *procuration) awaitTownHall(ctx workflow.Context) error {
	policy := p.in.Policy
	for p.status == dossier.AwaitingTownHall {
		next := p.waitingSince.Add(policy.TownHallFirstReminder + time.Duration(p.remindersSent)*policy.TownHallReminderEvery)
		summary := "town hall reminder"
		expiring := !next.Before(p.in.ValidUntil)
		if expiring {
			next, summary = p.in.ValidUntil, "expiry"
		}
		timedOut, err := p.wait(ctx, next, summary)
		if err != nil || !timedOut {
			return err
		}
		if expiring {
			return p.expire(ctx)
		}
		p.remindersSent++
		p.queueMail(dossier.MailTownHallReminder, p.remindersSent)
		p.publish(ctx)
		if err := p.sendMails(ctx); err != nil {
			return err
		}
	}
	return nil
}

// awaitEnd keeps a validated procuration alive until its validity ends or
// the grantor cancels it.
func (p *procuration) awaitEnd(ctx workflow.Context) error {
	timedOut, err := p.wait(ctx, p.in.ValidUntil, "end of validity")
	if err != nil || !timedOut {
		return err
	}
	return p.expire(ctx)
}

// wait blocks until the status changes, an email is queued, or until passes.
func (p *procuration) wait(ctx workflow.Context, until time.Time, summary string) (bool, error) {
	status, queued := p.status, len(p.mails)
	return awaitUntil(ctx, until, summary, func() bool { return p.status != status || len(p.mails) != queued })
}

func (p *procuration) reviewAutomatically(ctx workflow.Context) error {
	if err := p.mu.Lock(ctx); err != nil {
		return err
	}
	defer p.mu.Unlock()
	if p.status != dossier.AwaitingTownHall {
		return nil // cancelled while waiting for the lock
	}
	var slot dossier.SlotOutcome
	if err := p.step(ctx, "check register and reserve the proxy's slot", acts.ReserveProxySlot, p.in.Reference).Get(ctx, &slot); err != nil {
		return err
	}
	step := &dossier.TownHallStep{Outcome: dossier.TownHallValidated, Automatic: true}
	status, mail := dossier.Validated, dossier.MailValidated
	if !slot.Reserved {
		step.Outcome, step.Reason = dossier.TownHallInvalidated, slot.Reason
		status, mail = dossier.Invalidated, dossier.MailInvalidated
	}
	if err := p.record(ctx, status, dossier.SystemActor, "town_hall.automatic_review", nil, step); err != nil {
		return err
	}
	p.queueMail(mail, 0)
	return nil
}

func (p *procuration) satisfyPoliceDigitally(ctx workflow.Context) error {
	if err := p.mu.Lock(ctx); err != nil {
		return err
	}
	defer p.mu.Unlock()
	if p.status != dossier.AwaitingPolice {
		return nil
	}
	step := &dossier.PoliceStep{Outcome: dossier.PoliceVerified, DigitalIdentity: true}
	actor := dossier.Actor{Sub: "france-identite", Role: "digital_identity"}
	if err := p.record(ctx, dossier.AwaitingTownHall, actor, "police.digital_identity", step, nil); err != nil {
		return err
	}
	p.queueMail(dossier.MailDigitalIdentity, 0)
	return nil
}

func (p *procuration) expire(ctx workflow.Context) error {
	if err := p.mu.Lock(ctx); err != nil {
		return err
	}
	defer p.mu.Unlock()
	if p.status.Final() {
		return nil
	}
	if err := p.releaseSlot(ctx); err != nil {
		return err
	}
	if err := p.record(ctx, dossier.Expired, dossier.SystemActor, "expire", nil, nil); err != nil {
		return err
	}
	p.queueMail(dossier.MailExpired, 0)
	return nil
}

func (p *procuration) validateVerification(in dossier.PoliceVerification) error {
	if p.status != dossier.AwaitingPolice {
		return wrongState(p.status)
	}
	if in.Outcome != dossier.PoliceVerified && in.Outcome != dossier.PoliceRefused {
		return fmt.Errorf("outcome %q: want verified or refused", in.Outcome)
	}
	return nil
}

func (p *procuration) verify(ctx workflow.Context, in dossier.PoliceVerification) (dossier.Status, error) {
	if err := p.mu.Lock(ctx); err != nil {
		return "", err
	}
	defer p.mu.Unlock()
	if p.status != dossier.AwaitingPolice {
		return "", wrongState(p.status)
	}
	status, mail := dossier.AwaitingTownHall, dossier.MailPoliceReceipt
	if in.Outcome == dossier.PoliceRefused {
		status, mail = dossier.Refused, dossier.MailPoliceRefused
	}
	step := &dossier.PoliceStep{
		AgentSub: in.Actor.Sub, Rank: in.Rank, Unit: in.Unit, Outcome: in.Outcome,
		IDDocumentKind: in.IDDocumentKind, IDDocumentFingerprint: in.IDDocumentFingerprint, ReasonNote: in.ReasonNote,
	}
	if err := p.record(ctx, status, in.Actor, "police."+in.Outcome, step, nil); err != nil {
		return "", err
	}
	p.queueMail(mail, 0)
	return p.status, nil
}

func (p *procuration) validateDecision(in dossier.TownHallDecision) error {
	if p.in.Policy.Review != dossier.ReviewManual {
		return temporal.NewApplicationError("town hall review is automatic in this deployment", dossier.ErrWrongState, string(p.status))
	}
	if p.status != dossier.AwaitingTownHall {
		return wrongState(p.status)
	}
	if in.Outcome != dossier.TownHallValidated && in.Outcome != dossier.TownHallInvalidated {
		return fmt.Errorf("outcome %q: want validated or invalidated", in.Outcome)
	}
	return nil
}

func (p *procuration) decide(ctx workflow.Context, in dossier.TownHallDecision) (dossier.Status, error) {
	if err := p.mu.Lock(ctx); err != nil {
		return "", err
	}
	defer p.mu.Unlock()
	if p.status != dossier.AwaitingTownHall {
		return "", wrongState(p.status)
	}
	status, mail := dossier.Invalidated, dossier.MailInvalidated
	if in.Outcome == dossier.TownHallValidated {
		var slot dossier.SlotOutcome
		if err := p.step(ctx, "check register and reserve the proxy's slot", acts.ReserveProxySlot, p.in.Reference).Get(ctx, &slot); err != nil {
			return "", err
		}
		if !slot.Reserved {
			return "", temporal.NewApplicationError(slot.Reason, dossier.ErrCapReached)
		}
		status, mail = dossier.Validated, dossier.MailValidated
	}
	step := &dossier.TownHallStep{Outcome: in.Outcome, ReasonNote: in.ReasonNote}
	if err := p.record(ctx, status, in.Actor, "town_hall."+in.Outcome, nil, step); err != nil {
		return "", err
	}
	p.queueMail(mail, 0)
	return p.status, nil
}

func (p *procuration) validateCancel(dossier.Cancellation) error {
	if p.status.Final() {
		return wrongState(p.status)
	}
	return nil
}

func (p *procuration) cancel(ctx workflow.Context, in dossier.Cancellation) (dossier.Status, error) {
	if err := p.mu.Lock(ctx); err != nil {
		return "", err
	}
	defer p.mu.Unlock()
	if p.status.Final() {
		return "", wrongState(p.status)
	}
	if err := p.releaseSlot(ctx); err != nil {
		return "", err
	}
	if err := p.record(ctx, dossier.Cancelled, in.Actor, "cancel", nil, nil); err != nil {
		return "", err
	}
	p.queueMail(dossier.MailCancelled, 0)
	return p.status, nil
}

// releaseSlot frees the proxy holder's cap slot. It also runs when no slot
// is known to be held, because an automatic review may have reserved one
// before a failure the workflow never saw.
func (p *procuration) releaseSlot(ctx workflow.Context) error {
	if p.status != dossier.Validated && p.status != dossier.AwaitingTownHall {
		return nil
	}
	return p.step(ctx, "release the proxy's slot", acts.ReleaseProxySlot, p.in.Reference).Get(ctx, nil)
}

// record writes the step to the read model, then moves the workflow on.
// The caller holds the mutex.
func (p *procuration) record(ctx workflow.Context, status dossier.Status, actor dossier.Actor, action string,
	police *dossier.PoliceStep, townHall *dossier.TownHallStep) error {
	step := dossier.Step{
		Reference: p.in.Reference, Seq: p.seq + 1, Status: status, At: workflow.Now(ctx),
		Actor: actor, Action: action, Police: police, TownHall: townHall,
	}
	if err := p.step(ctx, "record "+string(status), acts.RecordStep, step).Get(ctx, nil); err != nil {
		return err
	}
	p.seq = step.Seq
	p.status = status
	p.waitingSince = step.At
	p.remindersSent = 0
	p.publish(ctx)
	return nil
}

// step runs a short database activity: locally from version 1 on, retried
// for as long as the database is away either way.
func (p *procuration) step(ctx workflow.Context, summary string, activity any, args ...any) workflow.Future {
	if !p.localSteps {
		return workflow.ExecuteActivity(activityContext(ctx, summary), activity, args...)
	}
	return workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: 30 * 24 * time.Hour,
		Summary:                summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    100 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
	}), activity, args...)
}

func (p *procuration) queueMail(kind dossier.MailKind, count int) {
	key := fmt.Sprintf("%s/%s", p.in.Reference, kind)
	if count > 0 {
		key = fmt.Sprintf("%s/%d", key, count)
	}
	p.mails = append(p.mails, dossier.Mail{Key: key, Kind: kind, Reference: p.in.Reference, Count: count})
}

// sendMails sends what handlers and timers queued, in order. A failed send
// is retried by the activity's policy; the email is never dropped.
func (p *procuration) sendMails(ctx workflow.Context) error {
	for len(p.mails) > 0 {
		m := p.mails[0]
		if err := workflow.ExecuteActivity(mailContext(ctx, "email: "+string(m.Kind)), acts.SendMail, m).Get(ctx, nil); err != nil {
			return err
		}
		p.mails = p.mails[1:]
	}
	return nil
}

// publish refreshes what support staff see in the Web UI.
func (p *procuration) publish(ctx workflow.Context) {
	_ = workflow.UpsertTypedSearchAttributes(ctx,
		dossier.StatusAttribute.ValueSet(string(p.status)),
		dossier.CommuneAttribute.ValueSet(p.in.CommuneCode),
		dossier.WaitingSinceAttribute.ValueSet(p.waitingSince),
		dossier.ValidUntilAttribute.ValueSet(p.in.ValidUntil),
		dossier.RemindersAttribute.ValueSet(int64(p.remindersSent)),
	)
	workflow.SetCurrentDetails(ctx, p.details())
}

func (p *procuration) details() string {
	since := p.waitingSince.UTC().Format("2006-01-02 15:04 MST")
	var what string
	switch p.status {
	case dossier.AwaitingPolice:
		what = "waiting for the grantor's visit to a police station or gendarmerie since " + since
	case dossier.AwaitingTownHall:
		what = fmt.Sprintf("waiting for the town hall of %s since %s", p.in.CommuneCode, since)
	case dossier.Validated:
		what = "validated on " + since + "; active until " + p.in.ValidUntil.UTC().Format("2006-01-02 15:04 MST")
	default:
		what = fmt.Sprintf("%s on %s", p.status, since)
	}
	if !p.status.Final() {
		what += fmt.Sprintf(", %d reminder%s sent", p.remindersSent, plural(p.remindersSent))
	}
	return fmt.Sprintf("**%s** (commune %s): %s", p.in.Reference, p.in.CommuneCode, what)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func wrongState(s dossier.Status) error { return dossier.WrongState(s) }

var acts *activities.Procurations

func activityContext(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		Summary:             summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
	})
}

// mailContext retries for as long as the mail server is away: an email is
// late rather than lost.
func mailContext(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		Summary:             summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    5 * time.Minute,
		},
	})
}
