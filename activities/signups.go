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
	"github.com/procurations/procuration/internal/mail"
	"github.com/procurations/procuration/internal/outbox"
	"github.com/procurations/procuration/internal/signup"
	"github.com/procurations/procuration/internal/store"
)

// Signups carries what the matching platforms' sign-up activities need.
type Signups struct {
	Store *store.Store
	// Mail sends the emails, once each.
	Mail      *Outbox
	Issuer    *auth.Issuer
	PublicURL string
}

// ConfirmationLinkLifetime bounds how long a confirmation link works.
const ConfirmationLinkLifetime = 7 * 24 * time.Hour

// SendConfirmation emails the signed link that puts a sign-up in the pool,
// once: a retry finds the email already on record.
func (a *Signups) SendConfirmation(ctx context.Context, signupID string) (outbox.Receipt, error) {
	su, err := a.Store.Signup(ctx, signupID)
	if errors.Is(err, store.ErrNotFound) {
		return outbox.Receipt{}, temporal.NewNonRetryableApplicationError("no such sign-up", outbox.ErrPermanent, err)
	}
	if err != nil {
		return outbox.Receipt{}, err
	}
	campaign, err := a.Store.Campaign(ctx, su.CampaignID)
	if err != nil {
		return outbox.Receipt{}, err
	}
	role := auth.RoleRequester
	if su.Side == store.SideVolunteer {
		role = auth.RoleVolunteer
	}
	token, err := a.Issuer.MintLink(role, su.ID, auth.PurposeConfirmSignup, su.ID, time.Now().Add(ConfirmationLinkLifetime))
	if err != nil {
		return outbox.Receipt{}, err
	}
	data := mail.Signup{
		Name: strings.TrimSpace(su.GivenNames + " " + su.FamilyName), Campaign: campaign.Name, Volunteer: su.Side == store.SideVolunteer,
		Link:  fmt.Sprintf("%s/c/%s/confirmer/%s?token=%s", a.PublicURL, url.PathEscape(campaign.ID), url.PathEscape(su.ID), url.QueryEscape(token)),
		Color: campaign.Site.Color,
	}
	subject, text, html, err := mail.Render("signup_confirmation", data)
	if err != nil {
		return outbox.Receipt{}, temporal.NewNonRetryableApplicationError("template", outbox.ErrPermanent, err)
	}
	return a.Mail.sendOnce(ctx, signup.ConfirmationKey(su.ID), "", "signup_confirmation",
		mail.Message{From: campaign.Sender, To: su.Email, Subject: subject, Text: text, HTML: html})
}
