package faults

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/procurations/procuration/internal/smtptrap"
)

func TestMessageIDsNameTheKindAndTheObject(t *testing.T) {
	for id, want := range map[string][2]string{
		"N3AX5S.submission@procuration.example":                      {"submission", "N3AX5S"},
		"<N3AX5S.police_reminder.2@procuration.example>":             {"police_reminder/2", "N3AX5S"},
		"match.m-0a1b.match_offer.requester@procuration.example":     {"match_offer", "m-0a1b"},
		"match.m-0a1b.match_link_reminder.requester.3@x.example":     {"match_link_reminder/3", "m-0a1b"},
		"signup.r-8d1b2b79a582b3f6.confirmation@procuration.example": {"signup_confirmation", "r-8d1b2b79a582b3f6"},
	} {
		kind, object, ok := ParseMessageID(id)
		require.True(t, ok, id)
		require.Equal(t, want, [2]string{kind, object}, id)
	}
	for _, id := range []string{"", "no-domain", "a.b.c.d@x", "1234@example"} {
		_, _, ok := ParseMessageID(id)
		require.False(t, ok, id)
	}
}

// Copies are counted per (kind, recipient, object); a copy beyond the
// first is in the window only when the record was still unmarked when it
// went out and a fault hit between the copies.
func TestEmailsCountedPerKeyAndDuplicatesSplitByTheWindow(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	mail := func(id, to string, s int) smtptrap.Mail {
		return smtptrap.Mail{MessageID: id, To: []string{to}, At: at(s)}
	}
	received := []smtptrap.Mail{
		mail("AAAAAA.submission@d", "marie@example.fr", 1),
		// Sent again after the worker died before its mark: the window.
		mail("BBBBBB.submission@d", "jean@example.fr", 2),
		mail("BBBBBB.submission@d", "Jean@example.fr", 40),
		// Sent again although marked at once, no fault between: a bug.
		mail("CCCCCC.submission@d", "luc@example.fr", 3),
		mail("CCCCCC.submission@d", "luc@example.fr", 50),
		// Unmarked, sent again, but nothing happened in between: a bug too.
		mail("DDDDDD.validated@d", "sophie@example.fr", 100),
		mail("DDDDDD.validated@d", "sophie@example.fr", 130),
		// Nobody expected it.
		mail("AAAAAA.police_reminder.1@d", "marie@example.fr", 5),
		mail("garbage", "x@example.fr", 6),
	}
	marked := func(s int) *time.Time { t := at(s); return &t }
	marks := map[string]*time.Time{
		"AAAAAA.submission@d": marked(1), "BBBBBB.submission@d": marked(40), "CCCCCC.submission@d": marked(3),
	}
	faults := []Fault{{Kind: KillWorker, From: at(2), To: at(5)}, {Kind: StopSMTP, From: at(60), To: at(90)}}
	expected := []EmailKey{
		{Kind: "submission", Recipient: "marie@example.fr", Object: "AAAAAA"},
		{Kind: "submission", Recipient: "jean@example.fr", Object: "BBBBBB"},
		{Kind: "submission", Recipient: "luc@example.fr", Object: "CCCCCC"},
		{Kind: "validated", Recipient: "sophie@example.fr", Object: "DDDDDD"},
		{Kind: "validated", Recipient: "marie@example.fr", Object: "AAAAAA"},
	}
	c := CountEmails(expected, received, marks, faults)
	require.Equal(t, 5, c.Expected)
	require.Equal(t, 4, c.Delivered)
	require.Equal(t, []EmailKey{{Kind: "validated", Recipient: "marie@example.fr", Object: "AAAAAA"}}, c.Missing)
	require.Equal(t, map[string]int{"police_reminder/1": 1}, c.Unexpected)
	require.Equal(t, 1, c.Unreadable)
	require.Len(t, c.InWindow, 1)
	require.Equal(t, "BBBBBB", c.InWindow[0].Key.Object)
	require.Equal(t, []string{KillWorker}, c.InWindow[0].Faults)
	require.Len(t, c.Outside, 2)
	outside := map[string]bool{}
	for _, d := range c.Outside {
		outside[d.Key.Object] = true
	}
	require.Equal(t, map[string]bool{"CCCCCC": true, "DDDDDD": true}, outside)
}
