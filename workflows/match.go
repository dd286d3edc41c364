package workflows

import (
	"fmt"
	"regexp"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/procurations/procuration/activities"
	"github.com/procurations/procuration/internal/campaign"
	"github.com/procurations/procuration/internal/match"
)

var matchActs *activities.Matches

type matchFlow struct {
	in        match.Start
	status    match.Status
	seq       int
	since     time.Time
	answers   map[string]string
	reference string
	mails     []match.Mail
	reminders int
	deadline  time.Time
	mu        workflow.Mutex
}

// Match runs one proposal from the engine to the official dossier's
// validation, or to its end.
func Match(ctx workflow.Context, in match.Start) (match.Status, error) {
	m := &matchFlow{in: in, status: match.Proposed, seq: 1, answers: map[string]string{}}
	if err := m.setup(ctx); err != nil {
		return "", err
	}
	return m.run(ctx)
}

func (m *matchFlow) setup(ctx workflow.Context) error {
	m.mu = workflow.NewMutex(ctx)
	m.since = workflow.Now(ctx)
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
	// The update's name before it was renamed, for histories that used it.
	return workflow.SetUpdateHandlerWithOptions(ctx, "procuration", m.link, workflow.UpdateHandlerOptions{
		Validator: m.validateLink, Description: "former name of " + match.UpdateLink})
}

func (m *matchFlow) run(ctx workflow.Context) (match.Status, error) {
	m.publish(ctx)
	for !m.status.Final() {
		if err := m.sendMails(ctx); err != nil {
			return "", err
		}
		var err error
		switch m.status {
		case match.Proposed:
			err = m.awaitApproval(ctx)
		case match.AwaitingAnswer:
			err = m.awaitAnswers(ctx)
		case match.Accepted:
			err = m.awaitLink(ctx)
		case match.ProcurationLinked:
			err = m.followDossier(ctx)
		}
		if err != nil {
			return "", err
		}
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return "", err
	}
	return m.status, m.sendMails(ctx)
}

func (m *matchFlow) awaitApproval(ctx workflow.Context) error {
	if !m.in.Settings.RequireApproval {
		return m.offer(ctx)
	}
	timedOut, err := m.wait(ctx, m.in.ElectionEnd, "election end")
	if err != nil || !timedOut {
		return err
	}
	return m.end(ctx, match.Cancelled, "l'élection est passée", nil)
}

// offer sends the proposal to both parties with a deadline to answer.
func (m *matchFlow) offer(ctx workflow.Context) error {
	if err := m.mu.Lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	now := workflow.Now(ctx)
	deadline := now.Add(m.in.Settings.AnswerWindow)
	if latest := m.in.FirstRound.Add(-m.in.Settings.AnswerBeforeRound); !m.in.FirstRound.IsZero() && latest.Before(deadline) {
		deadline = latest
	}
	if !deadline.After(now) {
		return m.endLocked(ctx, match.Expired, "trop tard pour une mise en relation avant le scrutin", nil)
	}
	if err := m.record(ctx, match.Step{Status: match.AwaitingAnswer, Actor: match.System, Action: "offer", Deadline: &deadline}); err != nil {
		return err
	}
	m.deadline = deadline
	m.queue(match.MailOffer, match.Requester, 0)
	m.queue(match.MailOffer, match.Volunteer, 0)
	return nil
}

// awaitAnswers waits for both answers, reminding at half-time whoever has
// not answered, and expires the offer at the deadline.
func (m *matchFlow) awaitAnswers(ctx workflow.Context) error {
	deadline := m.deadline
	for m.status == match.AwaitingAnswer {
		half := m.since.Add(deadline.Sub(m.since) / 2)
		next, summary := deadline, "answer deadline"
		if m.reminders == 0 && workflow.Now(ctx).Before(half) {
			next, summary = half, "answer reminder"
		}
		timedOut, err := m.wait(ctx, next, summary)
		if err != nil || !timedOut {
			return err
		}
		if next.Equal(deadline) {
			var silent []string
			for _, party := range []string{match.Requester, match.Volunteer} {
				if m.answers[party] == "" {
					silent = append(silent, party)
				}
			}
			return m.end(ctx, match.Expired, "pas de réponse avant la date limite", &match.Step{DeclinedPair: true, Withdraw: silent})
		}
		m.reminders++
		for _, party := range []string{match.Requester, match.Volunteer} {
			if m.answers[party] == "" {
				m.queue(match.MailAnswerReminder, party, 1)
			}
		}
		if err := m.sendMails(ctx); err != nil {
			return err
		}
	}
	return nil
}

// awaitLink waits for the requester to link the official dossier,
// reminding them 2 and 5 days after acceptance and 3 days before the round.
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
		next, summary := m.in.ElectionEnd, "election end"
		if m.reminders < len(reminders) && reminders[m.reminders].Before(next) {
			next, summary = reminders[m.reminders], "link reminder"
		}
		timedOut, err := m.wait(ctx, next, summary)
		if err != nil || !timedOut {
			return err
		}
		if summary == "election end" {
			return m.end(ctx, match.Cancelled, "aucune procuration n'a été établie avant la fin de l'élection", nil)
		}
		m.reminders++
		m.queue(match.MailLinkReminder, match.Requester, m.reminders)
		if err := m.sendMails(ctx); err != nil {
			return err
		}
	}
	return nil
}

// followDossier reads the linked dossier until it is validated or fails.
func (m *matchFlow) followDossier(ctx workflow.Context) error {
	for m.status == match.ProcurationLinked {
		var status string
		if err := workflow.ExecuteActivity(activityContext(ctx, "read the linked dossier"), matchActs.DossierStatus, m.reference).
			Get(ctx, &status); err != nil {
			return err
		}
		switch status {
		case "validated":
			if err := m.end(ctx, match.Completed, "", nil); err != nil {
				return err
			}
			m.queue(match.MailCompleted, match.Requester, 0)
			m.queue(match.MailCompleted, match.Volunteer, 0)
			return nil
		case "invalidated", "refused", "expired", "cancelled":
			return m.end(ctx, match.Cancelled, "la procuration n'a pas abouti ("+status+")", &match.Step{FirstInLine: true})
		}
		next := workflow.Now(ctx).Add(m.in.Settings.DossierCheckEvery)
		if !next.Before(m.in.ElectionEnd) {
			if workflow.Now(ctx).Before(m.in.ElectionEnd) {
				next = m.in.ElectionEnd
			} else {
				return m.end(ctx, match.Cancelled, "la procuration n'a pas été validée avant la fin de l'élection", nil)
			}
		}
		if _, err := m.wait(ctx, next, "read the dossier again"); err != nil {
			return err
		}
	}
	return nil
}

// end records a final status and tells both parties.
func (m *matchFlow) end(ctx workflow.Context, status match.Status, reason string, extra *match.Step) error {
	if err := m.mu.Lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	return m.endLocked(ctx, status, reason, extra)
}

func (m *matchFlow) endLocked(ctx workflow.Context, status match.Status, reason string, extra *match.Step) error {
	if m.status.Final() {
		return nil
	}
	step := match.Step{Status: status, Actor: match.System, Action: string(status), EndReason: reason}
	if extra != nil {
		step.DeclinedPair, step.Withdraw, step.FirstInLine = extra.DeclinedPair, extra.Withdraw, extra.FirstInLine
	}
	if err := m.record(ctx, step); err != nil {
		return err
	}
	if status != match.Completed {
		m.queue(match.MailEnded, match.Requester, 0)
		m.queue(match.MailEnded, match.Volunteer, 0)
	}
	return nil
}

func (m *matchFlow) validateApproval(in match.Approval) error {
	if in.Outcome != "approved" && in.Outcome != "rejected" {
		return fmt.Errorf("outcome %q: want approved or rejected", in.Outcome)
	}
	if m.status != match.Proposed || !m.in.Settings.RequireApproval {
		return matchWrongState(m.status)
	}
	return nil
}

func (m *matchFlow) approve(ctx workflow.Context, in match.Approval) (match.Status, error) {
	if in.Outcome == "rejected" {
		if err := m.end(ctx, match.Rejected, "la mise en relation n'a pas été retenue", nil); err != nil {
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
		return matchWrongState(m.status)
	}
	return nil
}

func (m *matchFlow) answer(ctx workflow.Context, in match.Answer) (match.Status, error) {
	if err := m.mu.Lock(ctx); err != nil {
		return "", err
	}
	defer m.mu.Unlock()
	if m.status != match.AwaitingAnswer || m.answers[in.Party] != "" {
		return "", matchWrongState(m.status)
	}
	if in.Outcome == "declined" {
		m.answers[in.Party] = in.Outcome
		step := match.Step{Status: match.Declined, Actor: in.Actor, Action: in.Party + ".declined", Answer: &in,
			EndReason: "l'autre personne a décliné la proposition", DeclinedPair: true}
		if err := m.record(ctx, step); err != nil {
			return "", err
		}
		m.queue(match.MailEnded, otherParty(in.Party), 0)
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
		m.queue(match.MailContacts, match.Requester, 0)
		m.queue(match.MailContacts, match.Volunteer, 0)
	}
	return m.status, nil
}

var referencePattern = regexp.MustCompile(`^[2-9A-HJKMNP-TV-Z]{6}$`)

func (m *matchFlow) validateLink(in match.Link) error {
	if !referencePattern.MatchString(in.Reference) {
		return fmt.Errorf("reference %q is not a dossier reference", in.Reference)
	}
	if m.status != match.Accepted {
		return matchWrongState(m.status)
	}
	return nil
}

func (m *matchFlow) link(ctx workflow.Context, in match.Link) (match.Status, error) {
	if err := m.mu.Lock(ctx); err != nil {
		return "", err
	}
	defer m.mu.Unlock()
	if m.status != match.Accepted {
		return "", matchWrongState(m.status)
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

func matchWrongState(s match.Status) error { return match.WrongState(s) }

// record writes the step; the caller holds the mutex.
func (m *matchFlow) record(ctx workflow.Context, step match.Step) error {
	step.MatchID, step.Seq, step.At = m.in.MatchID, m.seq+1, workflow.Now(ctx)
	if err := workflow.ExecuteActivity(activityContext(ctx, "record "+string(step.Status)), matchActs.RecordMatchStep, step).
		Get(ctx, nil); err != nil {
		return err
	}
	m.seq = step.Seq
	if step.Status != m.status {
		m.status, m.since, m.reminders = step.Status, step.At, 0
	}
	m.publish(ctx)
	return nil
}

func (m *matchFlow) queue(kind match.MailKind, party string, count int) {
	key := fmt.Sprintf("match/%s/%s/%s", m.in.MatchID, kind, party)
	if count > 0 {
		key = fmt.Sprintf("%s/%d", key, count)
	}
	m.mails = append(m.mails, match.Mail{Key: key, Kind: kind, MatchID: m.in.MatchID, Party: party, Count: count})
}

func (m *matchFlow) sendMails(ctx workflow.Context) error {
	for len(m.mails) > 0 {
		mail := m.mails[0]
		if err := workflow.ExecuteActivity(mailContext(ctx, "email: "+string(mail.Kind)+" to "+mail.Party), matchActs.SendMatchMail, mail).
			Get(ctx, nil); err != nil {
			return err
		}
		m.mails = m.mails[1:]
	}
	return nil
}

// wait blocks until the status changes, an email is queued, or until passes.
func (m *matchFlow) wait(ctx workflow.Context, until time.Time, summary string) (bool, error) {
	status, queued := m.status, len(m.mails)
	return awaitUntil(ctx, until, summary, func() bool { return m.status != status || len(m.mails) != queued })
}

func (m *matchFlow) publish(ctx workflow.Context) {
	_ = workflow.UpsertTypedSearchAttributes(ctx, match.StatusAttribute.ValueSet(string(m.status)), campaign.Attribute.ValueSet(m.in.Campaign))
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("**%s** (campaign %s): %s since %s", m.in.MatchID, m.in.Campaign, m.status,
		m.since.UTC().Format("2006-01-02 15:04 MST")))
}
