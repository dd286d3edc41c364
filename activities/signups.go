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
	"github.com/procurations/procuration/internal/store"
)

// Signups carries what the matching platforms' sign-up activities need.
type Signups struct {
	Store      *store.Store
	Mailer     *mail.Sender
	Issuer     *auth.Issuer
	PublicURL  string
	MailDomain string
}

// ConfirmationLinkLifetime bounds how long a confirmation link works.
const ConfirmationLinkLifetime = 7 * 24 * time.Hour

// SendConfirmation emails the signed link that puts a sign-up in the pool,
// once: a retry finds the email already on record.
func (a *Signups) SendConfirmation(ctx context.Context, signupID string) error {
	su, err := a.Store.Signup(ctx, signupID)
	if errors.Is(err, store.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError("no such sign-up", "NotFound", err)
	}
	if err != nil {
		return err
	}
	campaign, err := a.Store.Campaign(ctx, su.CampaignID)
	if err != nil {
		return err
	}
	role := auth.RoleRequester
	if su.Side == store.SideVolunteer {
		role = auth.RoleVolunteer
	}
	token, err := a.Issuer.Mint(role, su.ID, map[string]any{"campaign": campaign.ID}, ConfirmationLinkLifetime)
	if err != nil {
		return err
	}
	data := mail.Signup{
		Name: strings.TrimSpace(su.GivenNames + " " + su.FamilyName), Campaign: campaign.Name, Volunteer: su.Side == store.SideVolunteer,
		Link: fmt.Sprintf("%s/liens/inscription/%s?token=%s", a.PublicURL, url.PathEscape(su.ID), url.QueryEscape(token)),
	}
	subject, text, html, err := mail.Render("signup_confirmation", data)
	if err != nil {
		return temporal.NewNonRetryableApplicationError("template", "Template", err)
	}
	return sendOnce(ctx, a.Store, a.Mailer, a.MailDomain, "signup/"+su.ID+"/confirmation", "", "signup_confirmation",
		mail.Message{From: campaign.Sender, To: su.Email, Subject: subject, Text: text, HTML: html})
}
