package activities

import (
	"context"
	"errors"
	"strings"

	"go.temporal.io/sdk/activity"

	"github.com/procurations/procuration/internal/mail"
	"github.com/procurations/procuration/internal/store"
)

// sendOnce sends a rendered email at most once per key. The sent-mail
// record is claimed before sending and marked after: a retry after a crash
// between the two sends again with the same Message-ID, the only window left
// open. Errors are stripped of addresses: they go to logs and histories.
func sendOnce(ctx context.Context, st *store.Store, sender *mail.Sender, domain, key, reference, kind string, m mail.Message) error {
	messageID, err := st.ClaimMail(ctx, key, reference, kind, m.To, m.Subject, strings.ReplaceAll(key, "/", ".")+"@"+domain)
	if errors.Is(err, store.ErrMailSent) {
		activity.GetLogger(ctx).Info("email already sent", "key", key)
		return nil
	}
	if err != nil {
		return err
	}
	m.MessageID = messageID
	if err := sender.Send(ctx, m); err != nil {
		err = redactSMTP(err)
		activity.GetLogger(ctx).Warn("email not sent, will retry", "key", key, "error", err)
		return err
	}
	return st.MarkMailSent(ctx, key)
}

// redactSMTP drops the server's reply text, which may quote the recipient.
func redactSMTP(err error) error {
	msg := err.Error()
	if i := strings.IndexByte(msg, '<'); i >= 0 {
		msg = msg[:i] + "<redacted>"
	}
	return errors.New(msg)
}
