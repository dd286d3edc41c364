package activities

import (
	"context"
	"errors"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/procurations/procuration/internal/errs"
	"github.com/procurations/procuration/internal/mail"
	"github.com/procurations/procuration/internal/metrics"
	"github.com/procurations/procuration/internal/outbox"
	"github.com/procurations/procuration/internal/store"
)

// Outbox is the bookkeeping the email activities share.
type Outbox struct {
	Store  *store.Store
	Mailer *mail.Sender
	// Domain ends the Message-IDs.
	Domain string
	// MarkAttempts is how often a successful send's record is tried before
	// the workflow is asked to mark it in a step of its own.
	MarkAttempts int
	// Metrics counts the emails by kind and outcome; nil, nothing.
	Metrics *metrics.Registry
}

// MarkMailSent marks an email sent: the workflow's separate step when the
// activity that sent it could not.
func (o *Outbox) MarkMailSent(ctx context.Context, key string) error {
	return stepError(o.Store.MarkMailSent(ctx, key))
}

// sendOnce sends a rendered email at most once per key. The sent-mail
// record is claimed before sending and marked right after: a failed mark
// never sends again (the workflow marks it on its own), so the only window
// left open is a worker dying between the server's 250 and the mark. Errors
// are stripped of addresses: they go to logs and histories.
func (o *Outbox) sendOnce(ctx context.Context, key, reference, kind string, m mail.Message) (outbox.Receipt, error) {
	messageID, err := o.Store.ClaimMail(ctx, key, reference, kind, m.To, m.Subject, strings.ReplaceAll(key, "/", ".")+"@"+o.Domain)
	if errors.Is(err, store.ErrMailSent) {
		activity.GetLogger(ctx).Info("email already sent", "key", key)
		o.Metrics.Email(kind, metrics.EmailDuplicate)
		return outbox.Receipt{}, nil
	}
	if err != nil {
		return outbox.Receipt{}, stepError(err)
	}
	m.MessageID = messageID
	if err := o.Mailer.Send(ctx, m); err != nil {
		var refused *mail.Refused
		if errors.As(err, &refused) {
			activity.GetLogger(ctx).Error("email refused for good", "key", key, "reason", refused.Reason)
			o.Metrics.Email(kind, metrics.EmailRefused)
			return outbox.Receipt{Refused: refused.Reason}, stepError(o.Store.MarkMailFailed(ctx, key, refused.Reason))
		}
		err = redactSMTP(err)
		activity.GetLogger(ctx).Warn("email not sent, will retry", "key", key, "error", err)
		o.Metrics.Email(kind, metrics.EmailFailed)
		return outbox.Receipt{}, err
	}
	o.Metrics.Email(kind, metrics.EmailSent)
	attempts := max(o.MarkAttempts, 1)
	for i := range attempts {
		if err = o.Store.MarkMailSent(ctx, key); err == nil {
			return outbox.Receipt{}, nil
		}
		if i < attempts-1 {
			time.Sleep(time.Duration(100<<i) * time.Millisecond)
		}
	}
	activity.GetLogger(ctx).Warn("email sent, its record not marked yet", "key", key, "error", err)
	return outbox.Receipt{Unmarked: true}, nil
}

// skip records that the email of key is not sent, and why: a retry, or
// a later ask under the same key, finds it done. why names no address.
func (o *Outbox) skip(ctx context.Context, key, reference, kind, why string) (outbox.Receipt, error) {
	if err := o.Store.SkipMail(ctx, key, reference, kind, why); err != nil {
		return outbox.Receipt{}, stepError(err)
	}
	activity.GetLogger(ctx).Info("email not sent", "key", key, "why", why)
	return outbox.Receipt{}, nil
}

// redactSMTP drops the server's reply text, which may quote the recipient.
func redactSMTP(err error) error {
	msg := err.Error()
	if i := strings.IndexByte(msg, '<'); i >= 0 {
		msg = msg[:i] + "<redacted>"
	}
	if i := strings.Index(msg, "affected recipient"); i >= 0 {
		msg = msg[:i] + "<redacted>"
	}
	return errors.New(msg)
}

// stepError makes a refusal the database will repeat non-retryable: the
// workflow flags it rather than retrying it forever. The text keeps only
// the SQLSTATE, never the data.
func stepError(err error) error {
	if err == nil || !errs.Permanent(err) {
		return err
	}
	code := "?"
	var coded interface{ SQLState() string }
	if errors.As(err, &coded) {
		code = coded.SQLState()
	}
	return temporal.NewNonRetryableApplicationError("the database refused the step (SQLSTATE "+code+")", outbox.ErrPermanent, nil)
}
