package activities

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"golang.org/x/time/rate"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/campaign"
	"github.com/procurations/procuration/internal/french"
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
	// PerSecond is the mail relay's pace: the emails to sign-ups sent a
	// second, confirmations and notices together.
	PerSecond int

	paceOnce sync.Once
	limiter  *rate.Limiter
}

// pace is the worker's one budget at the mail relay, shared by the
// confirmations and the notices.
func (a *Signups) pace() *rate.Limiter {
	a.paceOnce.Do(func() { a.limiter = rate.NewLimiter(rate.Limit(max(a.PerSecond, 1)), 1) })
	return a.limiter
}

// SendPendingConfirmations sends the pending confirmation emails, oldest
// first, at most PerSecond a second over a few connections at once, for
// about run, then returns so that its workflow starts afresh. Each email is
// sent once (its key is claimed before sending); one that fails waits for
// a later pass, the others go on.
func (a *Signups) SendPendingConfirmations(ctx context.Context, run time.Duration) error {
	end := time.Now().Add(run)
	failing := map[string]time.Time{}
	for time.Now().Before(end) {
		activity.RecordHeartbeat(ctx)
		pending, err := a.Store.PendingConfirmations(ctx, ConfirmationLinkLifetime, 200)
		if err != nil {
			return err
		}
		var todo []string
		for _, id := range pending {
			if until, ok := failing[id]; !ok || time.Now().After(until) {
				todo = append(todo, id)
			}
		}
		if len(todo) == 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(500 * time.Millisecond):
			}
			continue
		}
		a.sendPaced(ctx, todo, func(id string) (string, outbox.Receipt, error) {
			r, err := a.SendConfirmation(ctx, id)
			return signup.ConfirmationKey(id), r, err
		}, func(id string, _ outbox.Receipt, err error) {
			if err != nil {
				// The mail server or the database is away: this one
				// waits for a later pass.
				activity.GetLogger(ctx).Warn("confirmation not sent yet", "signup", id, "error", err)
				failing[id] = time.Now().Add(10 * time.Second)
			} else {
				delete(failing, id)
			}
			activity.RecordHeartbeat(ctx)
		})
		activity.RecordHeartbeat(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// confirmationSenders is how many connections to the mail relay the sender
// keeps busy at once.
const confirmationSenders = 8

// sendPaced sends one email per item over confirmationSenders connections
// at the relay's pace: send renders and sends it once and names its key,
// which is marked sent here when send could not; done sees each outcome,
// one at a time (and heartbeats, with the details its activity resumes
// from).
func (a *Signups) sendPaced(ctx context.Context, items []string, send func(string) (string, outbox.Receipt, error),
	done func(string, outbox.Receipt, error)) {
	work := make(chan string)
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	for range confirmationSenders {
		wg.Go(func() {
			for item := range work {
				var (
					key     string
					receipt outbox.Receipt
				)
				err := a.pace().Wait(ctx)
				if err == nil {
					key, receipt, err = send(item)
				}
				if err == nil && receipt.Unmarked {
					err = a.Mail.MarkMailSent(ctx, key)
				}
				mu.Lock()
				done(item, receipt, err)
				mu.Unlock()
			}
		})
	}
	for _, item := range items {
		work <- item
	}
	close(work)
	wg.Wait()
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

// unmatchedPerBatch is how many requesters one page of the notice reads.
const unmatchedPerBatch = 200

// noticeProgress is what a notice's heartbeats carry, so that a retry
// resumes: the page it was on (an opaque cursor) and the counts.
type noticeProgress struct {
	Cursor  string
	Told    int
	Refused int
}

// NotifyUnmatched tells every confirmed requester of the campaign whom no
// live match holds for the round, once each (the key of their email is
// claimed before sending, and those told are skipped when read), at the
// mail relay's pace over a few connections at once. A page is read at a
// time; a retry after a crash or a relay away resumes on the page it was
// on. What it returns are counts: the people stay in PostgreSQL.
func (a *Signups) NotifyUnmatched(ctx context.Context, n campaign.Notice) (campaign.NoticeReport, error) {
	var p noticeProgress
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &p)
	}
	report := func() campaign.NoticeReport { return campaign.NoticeReport{Told: p.Told, Refused: p.Refused} }
	c, err := a.Store.Campaign(ctx, n.Campaign)
	if errors.Is(err, store.ErrNotFound) {
		return report(), temporal.NewNonRetryableApplicationError("no such campaign", outbox.ErrPermanent, err)
	}
	if err != nil {
		return report(), err
	}
	date, err := time.Parse(time.DateOnly, n.Date)
	if err != nil {
		return report(), temporal.NewNonRetryableApplicationError("round date", outbox.ErrPermanent, err)
	}
	data := mail.Unmatched{Campaign: c.Name, Round: french.Round(n.Round), Date: date, OfficialURL: c.Site.RequestURL(a.PublicURL),
		Color: c.Site.Color}
	for {
		activity.RecordHeartbeat(ctx, p)
		batch, next, err := a.Store.UnmatchedRequesters(ctx, n.Campaign, n.Round, p.Cursor, unmatchedPerBatch)
		if err != nil {
			return report(), err
		}
		people := make(map[string]store.Unmatched, len(batch))
		ids := make([]string, len(batch))
		for i, u := range batch {
			people[u.ID], ids[i] = u, u.ID
		}
		var failed error
		a.sendPaced(ctx, ids, func(id string) (string, outbox.Receipt, error) {
			r, err := a.sendUnmatched(ctx, c.Sender, data, n.Round, people[id])
			return signup.UnmatchedKey(id, n.Round), r, err
		}, func(_ string, receipt outbox.Receipt, err error) {
			switch {
			case err != nil:
				failed = cmp.Or(failed, err)
			case receipt.Refused != "":
				p.Refused++
			default:
				p.Told++
			}
			activity.RecordHeartbeat(ctx, p)
		})
		if failed != nil {
			// The relay or the database is away: the retry takes this
			// page up again, skipping those told meanwhile.
			return report(), failed
		}
		if next == "" {
			return report(), nil
		}
		p.Cursor = next
	}
}

// sendUnmatched renders and sends one requester's notice, once.
func (a *Signups) sendUnmatched(ctx context.Context, sender string, data mail.Unmatched, round int, u store.Unmatched) (outbox.Receipt, error) {
	data.Name = strings.TrimSpace(u.GivenNames + " " + u.FamilyName)
	subject, text, html, err := mail.Render("unmatched_notice", data)
	if err != nil {
		return outbox.Receipt{}, temporal.NewNonRetryableApplicationError("template", outbox.ErrPermanent, err)
	}
	return a.Mail.sendOnce(ctx, signup.UnmatchedKey(u.ID, round), "", "unmatched_notice",
		mail.Message{From: sender, To: u.Email, Subject: subject, Text: text, HTML: html})
}
