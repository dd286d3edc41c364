package store

import (
	"context"
	"errors"
	"time"
)

// ErrMailSent tells the mail activity that this email went out already.
var ErrMailSent = errors.New("email already sent")

// ClaimMail records an email about to be sent, or reports ErrMailSent when
// its key was sent (or refused for good, or skipped) before. The Message-ID stays the
// same across retries so that a copy sent twice after a crash is
// recognisable as one message.
func (s *Store) ClaimMail(ctx context.Context, key, reference, kind, recipient, subject, messageID string) (string, error) {
	var (
		done  bool
		msgID string
	)
	var ref *string
	if reference != "" {
		ref = &reference
	}
	err := s.pool.QueryRow(ctx, `INSERT INTO sent_emails (key, reference, kind, recipient, subject, message_id)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (key) DO UPDATE SET key = excluded.key
		RETURNING sent_at IS NOT NULL OR failed_at IS NOT NULL OR skipped IS NOT NULL, message_id`, key, ref, kind, recipient, subject, messageID).Scan(&done, &msgID)
	if err != nil {
		return "", err
	}
	if done {
		return msgID, ErrMailSent
	}
	return msgID, nil
}

// MarkMailSent records that the mail server took the email.
func (s *Store) MarkMailSent(ctx context.Context, key string) error {
	_, err := s.pool.Exec(ctx, `UPDATE sent_emails SET sent_at = coalesce(sent_at, now()) WHERE key = $1`, key)
	return err
}

// MarkMailFailed records that the mail server refused the email for good
// (a 5xx answer): it will not be tried again. failure names no address.
func (s *Store) MarkMailFailed(ctx context.Context, key, failure string) error {
	_, err := s.pool.Exec(ctx, `UPDATE sent_emails SET failed_at = coalesce(failed_at, now()), failure = $2 WHERE key = $1 AND sent_at IS NULL`,
		key, failure)
	return err
}

// SkipMail records that the email of a key is not sent, and why (no
// address on file...): its key is then done, as if sent. A key already
// claimed keeps its record. why names no address.
func (s *Store) SkipMail(ctx context.Context, key, reference, kind, why string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO sent_emails (key, reference, kind, recipient, subject, message_id, skipped)
		VALUES ($1, nullif($2, ''), $3, '', '', '', $4) ON CONFLICT (key) DO NOTHING`, key, reference, kind, why)
	return err
}

// SentMail is one line of the sent-mail record.
type SentMail struct {
	Key       string     `db:"key"`
	Kind      string     `db:"kind"`
	Recipient string     `db:"recipient"`
	SentAt    *time.Time `db:"sent_at"`
	FailedAt  *time.Time `db:"failed_at"`
	Failure   *string    `db:"failure"`
	// Skipped says why the email was not sent, when it was not.
	Skipped *string `db:"skipped"`
}

func (s *Store) SentMails(ctx context.Context, reference string) ([]SentMail, error) {
	return all[SentMail](ctx, s.pool, `SELECT key, kind, recipient, sent_at, failed_at, failure, skipped FROM sent_emails
		WHERE reference = $1 ORDER BY created_at, key`, reference)
}
