// Package workflows holds the durable processes: one workflow per dossier,
// one per match, a campaign's lifetime and a sign-up's confirmation.
package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/internal/french"
)

// Procurations runs the dossiers with the deployment's timing and review
// settings, which belong to the worker: a dossier copies them when it starts.
type Procurations struct {
	Policy dossier.Policy
}

type procuration struct {
	*flow
	in            dossier.Start
	policy        dossier.Policy
	status        dossier.Status
	remindersSent int // in the current status
	// beforeRoundSent: the reminder 3 days before the first round is sent once.
	beforeRoundSent bool
	startedAt       time.Time
	// next is what the dossier waits for, and until when.
	next     time.Time
	nextWhat string
}

// Procuration runs one dossier from submission to its end.
func (w *Procurations) Procuration(ctx workflow.Context, in dossier.Start) (dossier.Status, error) {
	p := &procuration{in: in, status: dossier.AwaitingPolice}
	if err := p.setup(ctx, w.Policy); err != nil {
		return "", err
	}
	return p.run(ctx)
}

func (p *procuration) setup(ctx workflow.Context, policy dossier.Policy) error {
	p.flow = newFlow(ctx, dossier.ActivitySendMail)
	p.startedAt = p.since
	p.policy = p.in.Policy
	if p.policy.Review == "" {
		// The worker's settings, recorded once so that the dossier keeps them.
		if err := workflow.SideEffect(ctx, func(workflow.Context) any { return policy }).Get(&p.policy); err != nil {
			return err
		}
	}
	if r := p.in.Resume; r != nil {
		p.status, p.seq, p.since = r.Status, r.Seq, r.WaitingSince
		p.last = "dossier repris après la perte de son workflow"
	}
	if err := workflow.SetQueryHandlerWithOptions(ctx, dossier.QueryStatus, func() (dossier.State, error) {
		return dossier.State{Status: p.status, WaitingSince: p.since, RemindersSent: p.remindersSent}, nil
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
	if p.in.Resume == nil {
		p.queueMail(dossier.MailSubmission, 0)
		p.last = "demande déposée par le mandant"
	}
	p.publish(ctx)
	if p.in.DigitalIdentity && p.status == dossier.AwaitingPolice {
		if err := p.satisfyPoliceDigitally(ctx); err != nil {
			if done, err := p.stopped(ctx, err); done {
				return p.status, err
			}
		}
	}
	err := p.drive(ctx, func() bool { return p.status.Final() }, p.advance, func(err error) (bool, error) { return p.stopped(ctx, err) })
	return p.status, err
}

// advance takes the step the dossier's status calls for.
func (p *procuration) advance(ctx workflow.Context) error {
	switch p.status {
	case dossier.AwaitingPolice:
		return p.awaitPolice(ctx)
	case dossier.AwaitingTownHall:
		if p.policy.Review == dossier.ReviewAutomatic {
			return p.reviewAutomatically(ctx)
		}
		return p.awaitTownHall(ctx)
	case dossier.Validated:
		return p.awaitEnd(ctx)
	}
	return nil
}

// stopped handles what interrupted the main loop: a cancellation from the
// Web UI ends the dossier as a grantor's cancellation would; a step the
// database refuses for good is flagged, and the dossier waits for another
// action (its other actions keep working). It reports whether the
// workflow ends.
func (p *procuration) stopped(ctx workflow.Context, err error) (bool, error) {
	if cancelled(ctx, err) {
		return true, p.cancelledBySupport(ctx)
	}
	if !permanent(err) {
		return true, err
	}
	p.flag(ctx, "step_failed", "étape refusée par la base de données : "+err.Error())
	p.publish(ctx)
	status := p.status
	if err := workflow.Await(ctx, func() bool { return p.status != status }); err != nil {
		return p.stopped(ctx, err)
	}
	return false, nil
}

// cancelledBySupport runs a Temporal-level cancellation through the path
// of a portal cancellation: status, audit entry naming support, cap slot
// released, email; then the workflow ends as cancelled.
func (p *procuration) cancelledBySupport(ctx workflow.Context) error {
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	unlock, err := p.lock(ctx)
	if err != nil {
		return err
	}
	if !p.status.Final() {
		// A handler cancelled mid-step may have recorded a step the
		// workflow never saw: skip its number.
		p.seq++
		if err := p.endCancelled(ctx, dossier.SupportActor, "cancel.support"); err != nil {
			unlock()
			return err
		}
	}
	unlock()
	if err := p.finish(ctx); err != nil {
		return err
	}
	return temporal.NewCanceledError("résiliée par le support")
}

// awaitPolice waits for the police visit, reminding the grantor and
// expiring the dossier when its validity has passed. The reminder before the
// first round counts as one: the regular rhythm resumes from it.
func (p *procuration) awaitPolice(ctx workflow.Context) error {
	last := p.since
	for p.status == dossier.AwaitingPolice {
		next := last.Add(p.policy.PoliceReminderEvery)
		if p.remindersSent == 0 {
			next = p.since.Add(p.policy.PoliceFirstReminder)
		}
		kind, summary := dossier.MailPoliceReminder, "relance : visite à la police"
		if !p.beforeRoundSent && !p.in.FirstRound.IsZero() {
			// A dossier submitted in the last days gets no separate warning:
			// its submission email already carries it.
			beforeRound := p.in.FirstRound.Add(-p.policy.BeforeRoundReminder)
			if beforeRound.After(p.startedAt) && !beforeRound.After(next) {
				next, kind, summary = beforeRound, dossier.MailBeforeRoundReminder, "relance avant le premier tour"
			}
		}
		if !next.Before(p.in.ValidUntil) {
			next, kind, summary = p.in.ValidUntil, "", "fin de validité"
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
		if err := p.send(ctx); err != nil {
			return err
		}
	}
	return nil
}

// awaitTownHall waits for the agent's decision, reminding the commune's
// electoral service after a day and then daily.
func (p *procuration) awaitTownHall(ctx workflow.Context) error {
	for p.status == dossier.AwaitingTownHall {
		next := p.since.Add(p.policy.TownHallFirstReminder + time.Duration(p.remindersSent)*p.policy.TownHallReminderEvery)
		summary := "relance à la mairie"
		expiring := !next.Before(p.in.ValidUntil)
		if expiring {
			next, summary = p.in.ValidUntil, "fin de validité"
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
		if err := p.send(ctx); err != nil {
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
	status, queued := p.status, p.queued()
	p.next, p.nextWhat = until, summary
	workflow.SetCurrentDetails(ctx, p.details())
	return p.waitUntil(ctx, until, summary, func() bool { return p.status != status || p.queued() != queued })
}

func (p *procuration) reviewAutomatically(ctx workflow.Context) error {
	unlock, err := p.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if p.status != dossier.AwaitingTownHall {
		return nil // cancelled while waiting for the lock
	}
	var slot dossier.SlotOutcome
	if err := p.step(ctx, "contrôle du répertoire et réservation de la place du mandataire", dossier.ActivityReserveSlot, p.in.Reference).Get(ctx, &slot); err != nil {
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
	if status == dossier.Validated {
		p.informHolder(ctx)
	}
	return nil
}

func (p *procuration) satisfyPoliceDigitally(ctx workflow.Context) error {
	unlock, err := p.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
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
	unlock, err := p.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
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
		return dossier.WrongState(p.status)
	}
	if in.Outcome != dossier.PoliceVerified && in.Outcome != dossier.PoliceRefused {
		return fmt.Errorf("outcome %q: want verified or refused", in.Outcome)
	}
	return nil
}

func (p *procuration) verify(ctx workflow.Context, in dossier.PoliceVerification) (dossier.Status, error) {
	unlock, err := p.lock(ctx)
	if err != nil {
		return "", err
	}
	defer unlock()
	if p.status != dossier.AwaitingPolice {
		return "", dossier.WrongState(p.status)
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
	if p.policy.Review != dossier.ReviewManual {
		return temporal.NewApplicationError("town hall review is automatic in this deployment", dossier.ErrWrongState, string(p.status))
	}
	if p.status != dossier.AwaitingTownHall {
		return dossier.WrongState(p.status)
	}
	if in.Outcome != dossier.TownHallValidated && in.Outcome != dossier.TownHallInvalidated {
		return fmt.Errorf("outcome %q: want validated or invalidated", in.Outcome)
	}
	return nil
}

func (p *procuration) decide(ctx workflow.Context, in dossier.TownHallDecision) (dossier.Status, error) {
	unlock, err := p.lock(ctx)
	if err != nil {
		return "", err
	}
	defer unlock()
	if p.status != dossier.AwaitingTownHall {
		return "", dossier.WrongState(p.status)
	}
	status, mail := dossier.Invalidated, dossier.MailInvalidated
	if in.Outcome == dossier.TownHallValidated {
		var slot dossier.SlotOutcome
		if err := p.step(ctx, "contrôle du répertoire et réservation de la place du mandataire", dossier.ActivityReserveSlot, p.in.Reference).Get(ctx, &slot); err != nil {
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
	if status == dossier.Validated {
		p.informHolder(ctx)
	}
	return p.status, nil
}

// holderInformedChange: from version 1 a validation also asks for the
// holder's email. Dossiers validated before replay without it.
const holderInformedChange = "holder-informed"

// informHolder asks, after the grantor's, for the holder's email; the
// activity sends it only if the grantor gave an address with consent,
// which the workflow does not know (no personal data in histories).
func (p *procuration) informHolder(ctx workflow.Context) {
	if workflow.GetVersion(ctx, holderInformedChange, workflow.DefaultVersion, 1) >= 1 {
		p.queueMail(dossier.MailHolderInformed, 0)
	}
}

func (p *procuration) validateCancel(dossier.Cancellation) error {
	if p.status.Final() {
		return dossier.WrongState(p.status)
	}
	return nil
}

func (p *procuration) cancel(ctx workflow.Context, in dossier.Cancellation) (dossier.Status, error) {
	unlock, err := p.lock(ctx)
	if err != nil {
		return "", err
	}
	defer unlock()
	if p.status.Final() {
		return "", dossier.WrongState(p.status)
	}
	if err := p.endCancelled(ctx, in.Actor, "cancel"); err != nil {
		return "", err
	}
	return p.status, nil
}

// holderCancelledChange: from version 1 cancelling a validated
// procuration also asks for the holder's email, so that a holder told of
// it does not go and vote for nothing.
const holderCancelledChange = "holder-cancelled"

// endCancelled is a cancellation, by the grantor or support: the cap slot
// released, the step recorded, the grantor's email, and for a validated
// procuration the holder's, which the activity sends only to a holder whose
// email of the validation went out.
func (p *procuration) endCancelled(ctx workflow.Context, actor dossier.Actor, action string) error {
	wasValidated := p.status == dossier.Validated
	if err := p.releaseSlot(ctx); err != nil {
		return err
	}
	if err := p.record(ctx, dossier.Cancelled, actor, action, nil, nil); err != nil {
		return err
	}
	p.queueMail(dossier.MailCancelled, 0)
	if wasValidated && workflow.GetVersion(ctx, holderCancelledChange, workflow.DefaultVersion, 1) >= 1 {
		p.queueMail(dossier.MailHolderCancelled, 0)
	}
	return nil
}

// releaseSlot frees the proxy holder's cap slot. It also runs when no slot
// is known to be held, because an automatic review may have reserved one
// before a failure the workflow never saw.
func (p *procuration) releaseSlot(ctx workflow.Context) error {
	if p.status != dossier.Validated && p.status != dossier.AwaitingTownHall {
		return nil
	}
	return p.step(ctx, "libération de la place du mandataire", dossier.ActivityReleaseSlot, p.in.Reference).Get(ctx, nil)
}

// record writes the step to the read model, then moves the workflow on.
// The caller holds the mutex.
func (p *procuration) record(ctx workflow.Context, status dossier.Status, actor dossier.Actor, action string,
	police *dossier.PoliceStep, townHall *dossier.TownHallStep) error {
	step := dossier.Step{
		Reference: p.in.Reference, Seq: p.seq + 1, Status: status, At: workflow.Now(ctx),
		Actor: actor, Action: action, Police: police, TownHall: townHall,
	}
	if err := p.step(ctx, "enregistrer l'étape "+string(status), dossier.ActivityRecordStep, step).Get(ctx, nil); err != nil {
		return err
	}
	p.moved(step.Seq, step.At, lastEvent(step))
	p.status = status
	p.remindersSent = 0
	p.publish(ctx)
	return nil
}

func (p *procuration) queueMail(kind dossier.MailKind, count int) {
	key := fmt.Sprintf("%s/%s", p.in.Reference, kind)
	if count > 0 {
		key = fmt.Sprintf("%s/%d", key, count)
	}
	p.queue(dossier.Mail{Key: key, Kind: kind, Reference: p.in.Reference, Count: count})
}

// publish refreshes what support staff see in the Web UI.
func (p *procuration) publish(ctx workflow.Context) {
	_ = workflow.UpsertTypedSearchAttributes(ctx,
		dossier.StatusAttribute.ValueSet(string(p.status)),
		dossier.CommuneAttribute.ValueSet(p.in.CommuneCode),
		dossier.WaitingSinceAttribute.ValueSet(p.since),
		dossier.ValidUntilAttribute.ValueSet(p.in.ValidUntil),
		dossier.RemindersAttribute.ValueSet(int64(p.remindersSent)),
	)
	workflow.SetCurrentDetails(ctx, p.details())
}

// commune names the grantor's commune as a person reads it.
func (p *procuration) commune() string {
	if p.in.CommuneName == "" {
		return "la commune " + p.in.CommuneCode
	}
	return p.in.CommuneName + " (" + p.in.CommuneCode + ")"
}

// details says, in French, where the dossier stands, what it waits for,
// from whom and until when, and the last thing that happened.
func (p *procuration) details() string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** — mandant inscrit à %s\n\n", p.in.Reference, p.commune())
	fmt.Fprintf(&b, "**Statut** : %s, depuis le %s.\n\n", p.status.French(), french.Instant(p.since))
	switch p.status {
	case dossier.AwaitingPolice:
		b.WriteString("**Attend** : la visite du mandant dans un commissariat ou une gendarmerie, avec sa référence et une pièce d'identité")
	case dossier.AwaitingTownHall:
		if p.policy.Review == dossier.ReviewAutomatic {
			b.WriteString("**Attend** : le contrôle automatique du répertoire électoral")
		} else {
			b.WriteString("**Attend** : la décision de la mairie de " + p.commune())
		}
	case dossier.Validated:
		b.WriteString("**Active** jusqu'à la fin de sa validité")
	}
	if !p.status.Final() {
		fmt.Fprintf(&b, ", au plus tard le %s (fin de validité).\n\n", french.Instant(p.in.ValidUntil))
		fmt.Fprintf(&b, "**Relances envoyées** dans ce statut : %d", p.remindersSent)
		if !p.next.IsZero() && p.next.Before(p.in.ValidUntil) {
			fmt.Fprintf(&b, " ; prochaine le %s", french.Instant(p.next))
		}
		b.WriteString(".\n\n")
	} else {
		b.WriteString("\n\n")
	}
	if p.last != "" {
		fmt.Fprintf(&b, "**Dernier événement** : %s, le %s.", p.last, french.Instant(p.since))
	}
	if p.alert != "" {
		fmt.Fprintf(&b, "\n\n⚠ **À traiter** : %s", p.alert)
	}
	return b.String()
}

// lastEvent says what a step did, in French.
func lastEvent(s dossier.Step) string {
	switch {
	case s.Police != nil && s.Police.DigitalIdentity:
		return "identité vérifiée par France Identité"
	case s.Police != nil && s.Police.Outcome == dossier.PoliceVerified:
		return "identité vérifiée par la police ou la gendarmerie (agent " + s.Actor.Sub + ")"
	case s.Police != nil:
		return "refusée par la police ou la gendarmerie (agent " + s.Actor.Sub + ")"
	case s.TownHall != nil && s.TownHall.Automatic:
		return "décision automatique du répertoire électoral : " + s.Status.French()
	case s.TownHall != nil:
		return s.Status.French() + " par la mairie (agent " + s.Actor.Sub + ")"
	case s.Actor.Role == dossier.SupportActor.Role:
		return "résiliée par le support depuis l'interface Temporal"
	case s.Status == dossier.Cancelled:
		return "résiliée par le mandant"
	case s.Status == dossier.Expired:
		return "arrivée à la fin de sa validité"
	}
	return s.Status.French()
}
