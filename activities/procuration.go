// Package activities holds the side effects of the workflows: the read model,
// the cap, the emails. Each is idempotent, since Temporal retries it.
package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/internal/french"
	"github.com/procurations/procuration/internal/mail"
	"github.com/procurations/procuration/internal/match"
	"github.com/procurations/procuration/internal/outbox"
	"github.com/procurations/procuration/internal/store"
)

// Procurations carries what the procuration activities need.
type Procurations struct {
	Store *store.Store
	// Mail sends the emails, once each.
	Mail *Outbox
	// TownHallFallback is the address pattern for a commune without a
	// registered electoral service; "{code}" stands for the INSEE code.
	TownHallFallback string
	// PublicURL is the portals': the emails link to the dossier's page.
	PublicURL string
	// Temporal signals the matches that follow a dossier when it changes.
	Temporal client.Client
}

// RecordStep writes a step to the read model, history and audit trail,
// then tells the matches linked to the dossier, within seconds rather than
// at their next poll. A retry records nothing twice and signals again,
// which a match takes as one more reason to read the dossier.
func (a *Procurations) RecordStep(ctx context.Context, step dossier.Step) error {
	if err := a.Store.RecordStep(ctx, step); err != nil {
		return stepError(err)
	}
	if a.Temporal == nil || (step.Status != dossier.Validated && !step.Status.Final()) {
		return nil
	}
	following, err := a.Store.MatchesFollowing(ctx, step.Reference)
	if err != nil {
		return err
	}
	for _, id := range following {
		err := a.Temporal.SignalWorkflow(ctx, match.WorkflowID(id), "", match.SignalDossierChanged, string(step.Status))
		var gone *serviceerror.NotFound
		if err != nil && !errors.As(err, &gone) {
			return err
		}
	}
	return nil
}

// ReserveProxySlot runs the register and cap checks and takes a slot.
func (a *Procurations) ReserveProxySlot(ctx context.Context, reference string) (dossier.SlotOutcome, error) {
	ok, reason, err := a.Store.ReserveProxySlot(ctx, reference)
	if errors.Is(err, store.ErrNotFound) {
		return dossier.SlotOutcome{}, temporal.NewNonRetryableApplicationError("no such dossier", outbox.ErrPermanent, err)
	}
	return dossier.SlotOutcome{Reserved: ok, Reason: reason}, stepError(err)
}

func (a *Procurations) ReleaseProxySlot(ctx context.Context, reference string) error {
	return stepError(a.Store.ReleaseProxySlot(ctx, reference))
}

// SendMail renders and sends one email, once.
func (a *Procurations) SendMail(ctx context.Context, m dossier.Mail) (outbox.Receipt, error) {
	p, err := a.Store.Procuration(ctx, m.Reference)
	if errors.Is(err, store.ErrNotFound) {
		return outbox.Receipt{}, temporal.NewNonRetryableApplicationError("no such dossier", outbox.ErrPermanent, err)
	}
	if err != nil {
		return outbox.Receipt{}, err
	}
	switch m.Kind {
	case dossier.MailHolderInformed:
		return a.informHolder(ctx, p, m)
	case dossier.MailHolderCancelled:
		return a.tellHolderCancelled(ctx, p, m)
	}
	data, err := a.mailData(ctx, p, m)
	if err != nil {
		return outbox.Receipt{}, err
	}
	to := p.GrantorEmail
	if m.Kind == dossier.MailTownHallReminder {
		to, err = a.Store.TownHallEmail(ctx, p.GrantorCommuneCode)
		if errors.Is(err, store.ErrNotFound) {
			to, err = strings.ReplaceAll(a.TownHallFallback, "{code}", p.GrantorCommuneCode), nil
		}
		if err != nil {
			return outbox.Receipt{}, err
		}
	}
	subject, text, html, err := mail.Render(string(m.Kind), data)
	if err != nil {
		return outbox.Receipt{}, temporal.NewNonRetryableApplicationError("template", outbox.ErrPermanent, err)
	}
	return a.Mail.sendOnce(ctx, m.Key, m.Reference, string(m.Kind), mail.Message{To: to, Subject: subject, Text: text, HTML: html})
}

// informHolder tells the holder of the validated procuration: for whom,
// for which rounds or period, where to vote. It goes only to the address
// the grantor gave with consent, and only while the procuration stands (a
// grantor may cancel before it leaves); otherwise that it was not sent is
// recorded under its key, once.
func (a *Procurations) informHolder(ctx context.Context, p store.Procuration, m dossier.Mail) (outbox.Receipt, error) {
	switch {
	case p.ProxyEmail == "" || p.ProxyEmailConsentAt == nil:
		return a.Mail.skip(ctx, m.Key, m.Reference, string(m.Kind), "le mandant n'a pas demandé que son mandataire soit informé par courriel")
	case p.Status != dossier.Validated:
		return a.Mail.skip(ctx, m.Key, m.Reference, string(m.Kind), "la procuration n'est plus validée ("+string(p.Status)+")")
	}
	data, err := a.mailData(ctx, p, m)
	if err != nil {
		return outbox.Receipt{}, err
	}
	voter, err := a.Store.Voter(ctx, p.GrantorNNE)
	switch {
	case err == nil && voter.PollingStation != "":
		data.Station = store.PollingStation{Code: voter.PollingStation, Name: voter.StationName, Address: voter.StationAddress}.Label()
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return outbox.Receipt{}, err
	}
	return a.mailHolder(ctx, m, p.ProxyEmail, data)
}

// mailHolder renders and sends, once, an email to the holder at to.
func (a *Procurations) mailHolder(ctx context.Context, m dossier.Mail, to string, data mail.Dossier) (outbox.Receipt, error) {
	// The holder has no access to the grantor's portal.
	data.Link = ""
	subject, text, html, err := mail.Render(string(m.Kind), data)
	if err != nil {
		return outbox.Receipt{}, temporal.NewNonRetryableApplicationError("template", outbox.ErrPermanent, err)
	}
	return a.Mail.sendOnce(ctx, m.Key, m.Reference, string(m.Kind), mail.Message{To: to, Subject: subject, Text: text, HTML: html})
}

// tellHolderCancelled tells the holder that the procuration they were told
// of is cancelled: only a holder whose email of the validation went out, at
// that address (the grantor's consent covered the procuration's news).
func (a *Procurations) tellHolderCancelled(ctx context.Context, p store.Procuration, m dossier.Mail) (outbox.Receipt, error) {
	sent, err := a.Store.SentMails(ctx, p.Reference)
	if err != nil {
		return outbox.Receipt{}, err
	}
	to := ""
	for _, s := range sent {
		if s.Kind == string(dossier.MailHolderInformed) && s.SentAt != nil {
			to = s.Recipient
		}
	}
	if to == "" {
		return a.Mail.skip(ctx, m.Key, m.Reference, string(m.Kind), "le mandataire n'avait pas été informé de la procuration")
	}
	data, err := a.mailData(ctx, p, m)
	if err != nil {
		return outbox.Receipt{}, err
	}
	return a.mailHolder(ctx, m, to, data)
}

func (a *Procurations) mailData(ctx context.Context, p store.Procuration, m dossier.Mail) (mail.Dossier, error) {
	commune, err := a.Store.Commune(ctx, p.GrantorCommuneCode)
	if err != nil {
		return mail.Dossier{}, err
	}
	d := mail.Dossier{
		Reference:    p.Reference,
		GrantorName:  strings.TrimSpace(p.GrantorGivenNames + " " + p.GrantorFamilyName),
		ProxyName:    strings.TrimSpace(p.ProxyGivenNames + " " + p.ProxyFamilyName),
		CommuneName:  commune.Name,
		CommuneCode:  commune.Code,
		CreatedAt:    p.CreatedAt,
		WaitingSince: p.UpdatedAt,
		Count:        m.Count,
		WasValidated: p.TownHall != nil && p.TownHall.Outcome == dossier.TownHallValidated,
		Digital:      p.DigitalIdentity,
	}
	if a.PublicURL != "" {
		d.Link = a.PublicURL + "/mes-procurations/" + p.Reference
	}
	d.Scope, d.FirstRound, err = a.scope(ctx, p)
	if err != nil {
		return d, err
	}
	if p.Police != nil {
		d.Police = &mail.Police{AgentName: p.Police.AgentName, Rank: p.Police.Rank, Unit: p.Police.Unit, At: p.Police.At}
		d.Reason = p.Police.Reason
	}
	if p.TownHall != nil {
		d.Reason, d.Automatic = p.TownHall.Reason, p.TownHall.Automatic
	}
	return d, nil
}

// scope describes what the procuration covers, in French, and the date of
// its first covered round if it covers an election.
func (a *Procurations) scope(ctx context.Context, p store.Procuration) (string, time.Time, error) {
	if p.ElectionID == nil {
		return fmt.Sprintf("du %s au %s", french.Date(p.ValidFrom), french.Date(p.ValidUntil)), time.Time{}, nil
	}
	e, err := a.Store.Election(ctx, *p.ElectionID)
	if err != nil {
		return "", time.Time{}, err
	}
	text, first := describeRounds(e, p.Rounds)
	return text, first, nil
}

// describeRounds names an election and the covered rounds in French
// ("Élection présidentielle 2027, 1er tour le 11 avril 2027 et 2d tour le
// 25 avril 2027") and gives the first covered round's date.
func describeRounds(e store.Election, rounds []int16) (string, time.Time) {
	var (
		parts []string
		first time.Time
	)
	for _, r := range e.Rounds {
		if !slices.Contains(rounds, int16(r.Number)) {
			continue
		}
		date, _ := time.Parse(time.DateOnly, r.Date)
		if first.IsZero() {
			first = date
		}
		ordinal := "1er tour"
		if r.Number == 2 {
			ordinal = "2d tour"
		}
		parts = append(parts, fmt.Sprintf("%s le %s", ordinal, french.Date(date)))
	}
	return fmt.Sprintf("%s, %s", e.Name, strings.Join(parts, " et ")), first
}
