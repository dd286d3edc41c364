package activities

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/cerfa"
	"github.com/procurations/procuration/internal/mail"
	"github.com/procurations/procuration/internal/match"
	"github.com/procurations/procuration/internal/outbox"
	"github.com/procurations/procuration/internal/store"
)

// Matches carries what the match workflow's activities need.
type Matches struct {
	Store *store.Store
	// Mail sends the emails, once each.
	Mail      *Outbox
	Issuer    *auth.Issuer
	PublicURL string
}

func (a *Matches) RecordMatchStep(ctx context.Context, step match.Step) error {
	return stepError(a.Store.RecordMatchStep(ctx, step))
}

// DossierStatus reads a linked official dossier's status; "" if unknown yet.
func (a *Matches) DossierStatus(ctx context.Context, reference string) (string, error) {
	st, err := a.Store.ProcurationStatus(ctx, reference)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return string(st), err
}

var proximity = []string{"même bureau de vote", "même commune", "même intercommunalité", "même arrondissement", "même département"}

// SendMatchMail renders and sends one match email to one party, once.
func (a *Matches) SendMatchMail(ctx context.Context, m match.Mail) (outbox.Receipt, error) {
	mt, err := a.Store.Match(ctx, m.MatchID)
	if errors.Is(err, store.ErrNotFound) {
		return outbox.Receipt{}, temporal.NewNonRetryableApplicationError("no such match", outbox.ErrPermanent, err)
	}
	if err != nil {
		return outbox.Receipt{}, err
	}
	campaign, err := a.Store.Campaign(ctx, mt.CampaignID)
	if err != nil {
		return outbox.Receipt{}, err
	}
	me, other := mt.RequestID, mt.VolunteerID
	if m.Party == match.Volunteer {
		me, other = other, me
	}
	self, err := a.Store.Signup(ctx, me)
	if err != nil {
		return outbox.Receipt{}, err
	}
	peer, err := a.Store.Signup(ctx, other)
	if err != nil {
		return outbox.Receipt{}, err
	}
	peerCommune, err := a.Store.Commune(ctx, peer.CommuneCode)
	if err != nil {
		return outbox.Receipt{}, err
	}
	rounds, err := a.rounds(ctx, campaign, mt.Rounds)
	if err != nil {
		return outbox.Receipt{}, err
	}
	data := mail.MatchMail{
		Name: strings.TrimSpace(self.GivenNames + " " + self.FamilyName), Campaign: campaign.Name, Volunteer: m.Party == match.Volunteer,
		OtherFirstName: strings.Fields(peer.GivenNames + " ")[0], OtherCommune: peerCommune.Name, Proximity: proximity[mt.Tier],
		Rounds: rounds, Count: m.Count, Paused: self.Status == "withdrawn",
	}
	if mt.AnswerDeadline != nil {
		data.Deadline = *mt.AnswerDeadline
	}
	requester := self
	if m.Party == match.Volunteer {
		requester = peer
	}
	stations, err := a.Store.PollingStations(ctx, requester.PollingStation, peer.PollingStation)
	if err != nil {
		return outbox.Receipt{}, err
	}
	if requester.PollingStation != "" {
		data.Station = stations[requester.PollingStation].Label()
	}
	if mt.EndReason != nil {
		data.Reason = *mt.EndReason
	}
	if mt.ProcurationReference != nil {
		data.Reference = *mt.ProcurationReference
	}
	var attachments []mail.Attachment
	switch m.Kind {
	case match.MailOffer, match.MailAnswerReminder:
		role := auth.RoleRequester
		if m.Party == match.Volunteer {
			role = auth.RoleVolunteer
		}
		// The offer's link answers this offer, until its deadline.
		token, err := a.Issuer.MintLink(role, self.ID, auth.PurposeAnswerOffer, mt.ID, data.Deadline.Add(time.Hour))
		if err != nil {
			return outbox.Receipt{}, err
		}
		link := fmt.Sprintf("%s/c/%s/offre/%s?token=%s&outcome=", a.PublicURL, url.PathEscape(campaign.ID), url.PathEscape(mt.ID), url.QueryEscape(token))
		data.AcceptLink, data.DeclineLink = link+"accepted", link+"declined"
	default:
		// Every later email leads to the match's page on the campaign's
		// site, until the campaign's data is deleted.
		role := auth.RoleRequester
		if m.Party == match.Volunteer {
			role = auth.RoleVolunteer
		}
		token, err := a.Issuer.MintLink(role, self.ID, auth.PurposeMatch, mt.ID, time.Now().Add(campaign.Retention+180*24*time.Hour))
		if err != nil {
			return outbox.Receipt{}, err
		}
		data.MatchLink = fmt.Sprintf("%s/c/%s/ma-mise-en-relation/%s?token=%s", a.PublicURL, url.PathEscape(campaign.ID),
			url.PathEscape(mt.ID), url.QueryEscape(token))
	}
	data.Color = campaign.Site.Color
	switch m.Kind {
	case match.MailContacts:
		data.Contact = &mail.Contact{Name: strings.TrimSpace(peer.GivenNames + " " + peer.FamilyName), Email: peer.Email, Phone: peer.Phone,
			BirthDate: peer.BirthDate, Commune: peerCommune.Name, NNE: peer.NNE}
		if peer.PollingStation != "" {
			data.Contact.PollingStation = stations[peer.PollingStation].Label()
		}
		if m.Party == match.Requester {
			pdf, err := a.cerfa(ctx, campaign, self, peer, mt.Rounds)
			if err != nil {
				return outbox.Receipt{}, err
			}
			attachments = append(attachments, mail.Attachment{Name: "cerfa-14952-procuration.pdf", PDF: pdf})
		}
	}
	subject, text, html, err := mail.Render(string(m.Kind), data)
	if err != nil {
		return outbox.Receipt{}, temporal.NewNonRetryableApplicationError("template", outbox.ErrPermanent, err)
	}
	return a.Mail.sendOnce(ctx, m.Key, "", string(m.Kind),
		mail.Message{From: campaign.Sender, To: self.Email, Subject: subject, Text: text, HTML: html, Attachments: attachments})
}

func (a *Matches) rounds(ctx context.Context, c store.Campaign, rounds []int16) (string, error) {
	e, err := a.Store.Election(ctx, c.ElectionID)
	if err != nil {
		return "", err
	}
	text, _ := describeRounds(e, rounds)
	return text, nil
}

// cerfa pre-fills the proxy form (Cerfa 14952) with what the platform knows.
func (a *Matches) cerfa(ctx context.Context, c store.Campaign, requester, volunteer store.Signup, rounds []int16) ([]byte, error) {
	commune, err := a.Store.Commune(ctx, requester.CommuneCode)
	if err != nil {
		return nil, err
	}
	e, err := a.Store.Election(ctx, c.ElectionID)
	if err != nil {
		return nil, err
	}
	pdf, err := cerfa.Render(cerfa.ForMatch(c.Name, requester, volunteer, commune, e, rounds))
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError("cerfa", outbox.ErrPermanent, err)
	}
	return pdf, nil
}
