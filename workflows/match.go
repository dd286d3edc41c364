package workflows

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/procurations/procuration/internal/campaign"
	"github.com/procurations/procuration/internal/french"
	"github.com/procurations/procuration/internal/match"
)

type matchFlow struct {
	*flow
	in        match.Start
	status    match.Status
	answers   map[string]string
	reference string
	reminders int
	deadline  time.Time
	next      time.Time
	nextWhat  string
	// dossierNews counts the linked dossier's signals of change.
	dossierNews int
}

// Match runs one proposal from the engine to the official dossier's
// validation, or to its end.
func Match(ctx workflow.Context, in match.Start) (match.Status, error) {
	m := &matchFlow{in: in, status: match.Proposed, answers: map[string]string{}}
	if err := m.setup(ctx); err != nil {
		return "", err
	}
	return m.run(ctx)
}

func (m *matchFlow) setup(ctx workflow.Context) error {
	m.flow = newFlow(ctx, match.ActivitySendMail)
	m.last = "proposée par le moteur de mise en relation"
	if err := workflow.SetQueryHandler(ctx, match.QueryStatus, func() (match.Status, error) { return m.status, nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, match.UpdateApproval, m.approve, workflow.UpdateHandlerOptions{
		Validator: m.validateApproval, Description: "back office: approved or rejected"}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, match.UpdateAnswer, m.answer, workflow.UpdateHandlerOptions{
		Validator: m.validateAnswer, Description: "requester or volunteer: accepted or declined"}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, match.UpdateLink, m.link, workflow.UpdateHandlerOptions{
		Validator: m.validateLink, Description: "requester: the official dossier's reference"}); err != nil {
		return err
	}
	// The dossier's side says when it changes; counting the signals is
	// enough, the match reads the dossier itself.
	workflow.Go(ctx, func(ctx workflow.Context) {
		news := workflow.GetSignalChannel(ctx, match.SignalDossierChanged)
		for {
			var status string
			news.Receive(ctx, &status)
			m.dossierNews++
		}
	})
	// The update's name before it was renamed, for histories that used it.
	return workflow.SetUpdateHandlerWithOptions(ctx, "procuration", m.link, workflow.UpdateHandlerOptions{
		Validator: m.validateLink, Description: "former name of " + match.UpdateLink})
}

func (m *matchFlow) run(ctx workflow.Context) (match.Status, error) {
	m.publish(ctx)
	err := m.drive(ctx, func() bool { return m.status.Final() }, m.advance, func(err error) (bool, error) {
		if cancelled(ctx, err) {
			return true, m.cancelledBySupport(ctx)
		}
		return true, err
	})
	return m.status, err
}

// advance takes the step the match's status calls for.
func (m *matchFlow) advance(ctx workflow.Context) error {
	switch m.status {
	case match.Proposed:
		return m.awaitApproval(ctx)
	case match.AwaitingAnswer:
		return m.awaitAnswers(ctx)
	case match.Accepted:
		return m.awaitLink(ctx)
	case match.ProcurationLinked:
		return m.followDossier(ctx)
	}
	return nil
}

// cancelledBySupport ends the match as the end of an election would, both
// parties told, when support cancels it from the Web UI.
func (m *matchFlow) cancelledBySupport(ctx workflow.Context) error {
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	m.seq++ // a handler cancelled mid-step may have recorded one
	if err := m.end(ctx, match.Cancelled, "la mise en relation a été annulée par l'équipe de la plateforme", match.Support, nil); err != nil {
		return err
	}
	if err := m.finish(ctx); err != nil {
		return err
	}
	return temporal.NewCanceledError("annulée par le support")
}

func (m *matchFlow) awaitApproval(ctx workflow.Context) error {
	if !m.in.Settings.RequireApproval {
		return m.offer(ctx)
	}
	timedOut, err := m.wait(ctx, m.in.ElectionEnd, electionEndTimer)
	if err != nil || !timedOut {
		return err
	}
	return m.end(ctx, match.Cancelled, "l'élection est passée", match.System, nil)
}

// offer sends the proposal to both parties with a deadline to answer.
func (m *matchFlow) offer(ctx workflow.Context) error {
	unlock, err := m.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	now := workflow.Now(ctx)
	deadline := now.Add(m.in.Settings.AnswerWindow)
	if latest := m.in.FirstRound.Add(-m.in.Settings.AnswerBeforeRound); !m.in.FirstRound.IsZero() && latest.Before(deadline) {
		deadline = latest
	}
	if !deadline.After(now) {
		return m.endLocked(ctx, match.Expired, "trop tard pour une mise en relation avant le scrutin", match.System, nil)
	}
	if err := m.record(ctx, match.Step{Status: match.AwaitingAnswer, Actor: match.System, Action: "offer", Deadline: &deadline}); err != nil {
		return err
	}
	m.deadline = deadline
	m.queueMail(match.MailOffer, match.Requester, 0)
	m.queueMail(match.MailOffer, match.Volunteer, 0)
	return nil
}

// awaitAnswers waits for both answers, reminding at half-time whoever has
// not answered, and expires the offer at the deadline.
func (m *matchFlow) awaitAnswers(ctx workflow.Context) error {
	for m.status == match.AwaitingAnswer {
		half := m.since.Add(m.deadline.Sub(m.since) / 2)
		next, summary := m.deadline, "date limite de réponse"
		if m.reminders == 0 && workflow.Now(ctx).Before(half) {
			next, summary = half, "relance : réponse à l'offre"
		}
		timedOut, err := m.wait(ctx, next, summary)
		if err != nil || !timedOut {
			return err
		}
		if next.Equal(m.deadline) {
			return m.end(ctx, match.Expired, "pas de réponse avant la date limite", match.System,
				&match.Step{DeclinedPair: true, Withdraw: m.silent()})
		}
		m.reminders++
		for _, party := range m.silent() {
			m.queueMail(match.MailAnswerReminder, party, 1)
		}
		if err := m.send(ctx); err != nil {
			return err
		}
	}
	return nil
}

// silent lists the parties that have not answered.
func (m *matchFlow) silent() []string {
	var out []string
	for _, party := range []string{match.Requester, match.Volunteer} {
		if m.answers[party] == "" {
			out = append(out, party)
		}
	}
	return out
}

// awaitLink waits for the requester to link the official dossier,
// reminding them on the campaign's days after acceptance and before the round.
func (m *matchFlow) awaitLink(ctx workflow.Context) error {
	var reminders []time.Time
	for _, d := range m.in.Settings.LinkReminders {
		reminders = append(reminders, m.since.Add(d))
	}
	if !m.in.FirstRound.IsZero() {
		if beforeRound := m.in.FirstRound.Add(-m.in.Settings.LinkBeforeRound); beforeRound.After(m.since) {
			reminders = append(reminders, beforeRound)
		}
	}
	slices.SortFunc(reminders, func(a, b time.Time) int { return a.Compare(b) })
	for m.status == match.Accepted {
		next, summary := m.in.ElectionEnd, electionEndTimer
		if m.reminders < len(reminders) && reminders[m.reminders].Before(next) {
			next, summary = reminders[m.reminders], "relance : référence du dossier officiel"
		}
		timedOut, err := m.wait(ctx, next, summary)
		if err != nil || !timedOut {
			return err
		}
		if summary == electionEndTimer {
			return m.end(ctx, match.Cancelled, "aucune procuration n'a été établie avant la fin de l'élection", match.System, nil)
		}
		m.reminders++
		m.queueMail(match.MailLinkReminder, match.Requester, m.reminders)
		if err := m.send(ctx); err != nil {
			return err
		}
	}
	return nil
}

// electionEndTimer names the wait that ends with the election.
const electionEndTimer = "fin de l'élection"

// followDossier reads the linked dossier until it is validated or fails.
func (m *matchFlow) followDossier(ctx workflow.Context) error {
	for m.status == match.ProcurationLinked {
		var status string
		if err := m.step(ctx, "lire le dossier officiel lié", match.ActivityDossierStatus, m.reference).Get(ctx, &status); err != nil {
			return err
		}
		switch status {
		case "validated":
			if err := m.end(ctx, match.Completed, "", match.System, nil); err != nil {
				return err
			}
			m.queueMail(match.MailCompleted, match.Requester, 0)
			m.queueMail(match.MailCompleted, match.Volunteer, 0)
			return nil
		case "invalidated", "refused", "expired", "cancelled":
			// The pair joins those never proposed again: the rematch offers
			// the requester someone else (the two have each other's details).
			failedPair := workflow.GetVersion(ctx, failedPairChange, workflow.DefaultVersion, 1) >= 1
			if err := m.end(ctx, match.Cancelled, "la procuration n'a pas abouti ("+status+")", match.System,
				&match.Step{FirstInLine: true, DeclinedPair: failedPair}); err != nil {
				return err
			}
			if workflow.GetVersion(ctx, rematchChange, workflow.DefaultVersion, 1) < 1 {
				return nil
			}
			// Days before the round, the requester cannot wait for the
			// next scheduled run.
			return m.step(ctx, "remettre le demandeur en relation", campaign.ActivityRequestRematch, m.in.Campaign).Get(ctx, nil)
		}
		next := workflow.Now(ctx).Add(m.in.Settings.DossierCheckEvery)
		if !next.Before(m.in.ElectionEnd) {
			if !workflow.Now(ctx).Before(m.in.ElectionEnd) {
				return m.end(ctx, match.Cancelled, "la procuration n'a pas été validée avant la fin de l'élection", match.System, nil)
			}
			next = m.in.ElectionEnd
		}
		if _, err := m.waitForDossier(ctx, next); err != nil {
			return err
		}
	}
	return nil
}

// end records a final status and tells both parties.
func (m *matchFlow) end(ctx workflow.Context, status match.Status, reason string, by match.Actor, extra *match.Step) error {
	unlock, err := m.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	return m.endLocked(ctx, status, reason, by, extra)
}

func (m *matchFlow) endLocked(ctx workflow.Context, status match.Status, reason string, by match.Actor, extra *match.Step) error {
	if m.status.Final() {
		return nil
	}
	step := match.Step{Status: status, Actor: by, Action: string(status), EndReason: reason}
	if extra != nil {
		step.DeclinedPair, step.Withdraw, step.FirstInLine = extra.DeclinedPair, extra.Withdraw, extra.FirstInLine
	}
	if err := m.record(ctx, step); err != nil {
		return err
	}
	if status != match.Completed {
		m.queueMail(match.MailEnded, match.Requester, 0)
		m.queueMail(match.MailEnded, match.Volunteer, 0)
	}
	return nil
}

func (m *matchFlow) validateApproval(in match.Approval) error {
	if in.Outcome != "approved" && in.Outcome != "rejected" {
		return fmt.Errorf("outcome %q: want approved or rejected", in.Outcome)
	}
	if m.status != match.Proposed || !m.in.Settings.RequireApproval {
		return match.WrongState(m.status)
	}
	return nil
}

func (m *matchFlow) approve(ctx workflow.Context, in match.Approval) (match.Status, error) {
	if in.Outcome == "rejected" {
		if err := m.end(ctx, match.Rejected, "la mise en relation n'a pas été retenue", in.Actor, nil); err != nil {
			return "", err
		}
		return m.status, nil
	}
	if err := m.offer(ctx); err != nil {
		return "", err
	}
	return m.status, nil
}

func (m *matchFlow) validateAnswer(in match.Answer) error {
	if in.Outcome != "accepted" && in.Outcome != "declined" {
		return fmt.Errorf("outcome %q: want accepted or declined", in.Outcome)
	}
	if in.Party != match.Requester && in.Party != match.Volunteer {
		return fmt.Errorf("party %q", in.Party)
	}
	if m.status != match.AwaitingAnswer || m.answers[in.Party] != "" {
		return match.WrongState(m.status)
	}
	return nil
}

func (m *matchFlow) answer(ctx workflow.Context, in match.Answer) (match.Status, error) {
	unlock, err := m.lock(ctx)
	if err != nil {
		return "", err
	}
	defer unlock()
	if m.status != match.AwaitingAnswer || m.answers[in.Party] != "" {
		return "", match.WrongState(m.status)
	}
	if in.Outcome == "declined" {
		m.answers[in.Party] = in.Outcome
		step := match.Step{Status: match.Declined, Actor: in.Actor, Action: in.Party + ".declined", Answer: &in,
			EndReason: "l'autre personne a décliné la proposition", DeclinedPair: true}
		if err := m.record(ctx, step); err != nil {
			return "", err
		}
		m.queueMail(match.MailEnded, otherParty(in.Party), 0)
		return m.status, nil
	}
	status := match.AwaitingAnswer
	if m.answers[otherParty(in.Party)] == "accepted" {
		status = match.Accepted
	}
	if err := m.record(ctx, match.Step{Status: status, Actor: in.Actor, Action: in.Party + ".accepted", Answer: &in}); err != nil {
		return "", err
	}
	m.answers[in.Party] = in.Outcome
	if status == match.Accepted {
		m.reminders = 0
		m.queueMail(match.MailContacts, match.Requester, 0)
		m.queueMail(match.MailContacts, match.Volunteer, 0)
	}
	return m.status, nil
}

var referencePattern = regexp.MustCompile(`^[2-9A-HJKMNP-TV-Z]{6}$`)

func (m *matchFlow) validateLink(in match.Link) error {
	if !referencePattern.MatchString(in.Reference) {
		return fmt.Errorf("reference %q is not a dossier reference", in.Reference)
	}
	if m.status != match.Accepted {
		return match.WrongState(m.status)
	}
	return nil
}

func (m *matchFlow) link(ctx workflow.Context, in match.Link) (match.Status, error) {
	unlock, err := m.lock(ctx)
	if err != nil {
		return "", err
	}
	defer unlock()
	if m.status != match.Accepted {
		return "", match.WrongState(m.status)
	}
	if err := m.record(ctx, match.Step{Status: match.ProcurationLinked, Actor: in.Actor, Action: "link", Reference: in.Reference}); err != nil {
		return "", err
	}
	m.reference = in.Reference
	return m.status, nil
}

func otherParty(p string) string {
	if p == match.Requester {
		return match.Volunteer
	}
	return match.Requester
}

// record writes the step; the caller holds the mutex.
func (m *matchFlow) record(ctx workflow.Context, step match.Step) error {
	step.MatchID, step.Seq, step.At = m.in.MatchID, m.seq+1, workflow.Now(ctx)
	if err := m.step(ctx, "enregistrer l'étape "+string(step.Status), match.ActivityRecordStep, step).Get(ctx, nil); err != nil {
		return err
	}
	since := m.since
	if step.Status != m.status {
		m.status, since, m.reminders = step.Status, step.At, 0
	}
	m.moved(step.Seq, since, matchEvent(step))
	m.publish(ctx)
	return nil
}

func (m *matchFlow) queueMail(kind match.MailKind, party string, count int) {
	key := fmt.Sprintf("match/%s/%s/%s", m.in.MatchID, kind, party)
	if count > 0 {
		key = fmt.Sprintf("%s/%d", key, count)
	}
	m.queue(match.Mail{Key: key, Kind: kind, MatchID: m.in.MatchID, Party: party, Count: count})
}

// wait blocks until the status changes, an email is queued, or until passes.
func (m *matchFlow) wait(ctx workflow.Context, until time.Time, summary string) (bool, error) {
	status, queued := m.status, m.queued()
	m.next, m.nextWhat = until, summary
	workflow.SetCurrentDetails(ctx, m.details())
	return m.waitUntil(ctx, until, summary, func() bool { return m.status != status || m.queued() != queued })
}

// dossierSignalChange: from version 1 a linked match also wakes up when
// the dossier's side signals a change; the poll stays for dossiers of other
// systems and as a safety net.
const dossierSignalChange = "dossier-signal"

// rematchChange: a match whose dossier failed asks for a run at once.
const rematchChange = "rematch-on-failure"

// failedPairChange: a pair whose dossier failed is not proposed again.
const failedPairChange = "failed-pair-not-again"

func (m *matchFlow) waitForDossier(ctx workflow.Context, until time.Time) (bool, error) {
	if workflow.GetVersion(ctx, dossierSignalChange, workflow.DefaultVersion, 1) < 1 {
		return m.wait(ctx, until, "nouvelle lecture du dossier officiel")
	}
	status, queued, news := m.status, m.queued(), m.dossierNews
	m.next, m.nextWhat = until, "nouvelle lecture du dossier officiel"
	workflow.SetCurrentDetails(ctx, m.details())
	return m.waitUntil(ctx, until, m.nextWhat, func() bool { return m.status != status || m.queued() != queued || m.dossierNews != news })
}

func (m *matchFlow) publish(ctx workflow.Context) {
	_ = workflow.UpsertTypedSearchAttributes(ctx, match.StatusAttribute.ValueSet(string(m.status)), campaign.Attribute.ValueSet(m.in.Campaign))
	workflow.SetCurrentDetails(ctx, m.details())
}

var answerFrench = map[string]string{"": "pas encore répondu", "accepted": "a accepté", "declined": "a décliné"}

// details says, in French, where the match stands, what it waits for, from
// whom and until when, and the last thing that happened.
func (m *matchFlow) details() string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** — campagne %s, tours %v\n\n", m.in.MatchID, m.in.Campaign, m.in.Rounds)
	fmt.Fprintf(&b, "**Statut** : %s, depuis le %s.\n\n", m.status.French(), french.Instant(m.since))
	switch m.status {
	case match.Proposed:
		b.WriteString("**Attend** : l'approbation de l'équipe de la campagne (back office)")
	case match.AwaitingAnswer:
		fmt.Fprintf(&b, "**Attend** : les réponses avant le %s — demandeur : %s ; volontaire : %s", french.Instant(m.deadline),
			answerFrench[m.answers[match.Requester]], answerFrench[m.answers[match.Volunteer]])
	case match.Accepted:
		b.WriteString("**Attend** : que le demandeur dépose sa procuration et en indique la référence")
	case match.ProcurationLinked:
		fmt.Fprintf(&b, "**Suit** : la procuration %s jusqu'à sa validation", m.reference)
	}
	if !m.status.Final() && !m.next.IsZero() {
		fmt.Fprintf(&b, " ; prochaine échéance le %s (%s)", french.Instant(m.next), m.nextWhat)
	}
	if !m.status.Final() {
		b.WriteString(".\n\n")
	}
	fmt.Fprintf(&b, "**Dernier événement** : %s, le %s.", m.last, french.Instant(m.since))
	if m.alert != "" {
		fmt.Fprintf(&b, "\n\n⚠ **À traiter** : %s", m.alert)
	}
	return b.String()
}

// matchEvent says what a step did, in French.
func matchEvent(s match.Step) string {
	who := map[string]string{match.Requester: "le demandeur", match.Volunteer: "le volontaire"}
	switch {
	case s.Answer != nil:
		return who[s.Answer.Party] + " " + answerFrench[s.Answer.Outcome]
	case s.Action == "offer":
		return "proposition envoyée aux deux personnes"
	case s.Action == "link":
		return "procuration " + s.Reference + " indiquée par le demandeur"
	case s.EndReason != "":
		return s.Status.French() + " : " + s.EndReason
	}
	return s.Status.French()
}
