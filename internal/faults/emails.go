package faults

import (
	"sort"
	"strings"
	"time"

	"github.com/procurations/procuration/internal/smtptrap"
)

// EmailKey is what one email is about: its kind, its recipient, and the
// dossier, match or sign-up it concerns. The system sends each at most
// once, outside the documented window.
type EmailKey struct {
	Kind      string
	Recipient string
	// Object is a dossier reference, a match id or a sign-up id.
	Object string
}

// ParseMessageID reads the kind and the object from a Message-ID: the
// system derives it from the email's idempotency key ("REF/kind[/n]",
// "match/ID/kind/party[/n]", "signup/ID/confirmation", slashes turned into
// dots), so every copy of one email carries the same one. Reminders keep
// their number in the kind ("police_reminder/2"): each is its own email.
func ParseMessageID(id string) (kind, object string, ok bool) {
	local, _, found := strings.Cut(strings.Trim(id, "<>"), "@")
	if !found {
		return "", "", false
	}
	parts := strings.Split(local, ".")
	switch {
	case len(parts) >= 4 && parts[0] == "match":
		kind = parts[2]
		if len(parts) == 5 {
			kind += "/" + parts[4]
		}
		return kind, parts[1], len(parts) <= 5
	case len(parts) == 3 && parts[0] == "signup":
		return "signup_" + parts[2], parts[1], true
	case len(parts) == 2 || len(parts) == 3:
		kind = parts[1]
		if len(parts) == 3 {
			kind += "/" + parts[2]
		}
		return kind, parts[0], true
	}
	return "", "", false
}

// Fault is one fault the harness caused, from when it started to when
// the harness had undone it.
type Fault struct {
	Kind string
	From time.Time
	To   time.Time
}

// Fault kinds.
const (
	KillWorker   = "worker SIGKILL"
	KillAPI      = "API SIGKILL"
	KillTemporal = "Temporal SIGKILL"
	StopPostgres = "PostgreSQL stopped"
	StopSMTP     = "SMTP server stopped"
)

// Duplicate is a copy of an email beyond the first.
type Duplicate struct {
	Key EmailKey
	// Previous and At are when the server took the copy before and this one.
	Previous, At time.Time
	// Faults are those under way between the two copies.
	Faults []string
}

// EmailCount is the emails as the SMTP server got them, against those the
// run's dossiers and matches call for.
type EmailCount struct {
	Expected int
	// Delivered counts the expected keys received at least once.
	Delivered int
	Missing   []EmailKey
	// Unexpected counts, per kind, the keys nobody expected.
	Unexpected map[string]int
	// InWindow are the copies sent again while the email's record was
	// still not marked sent, with a fault between the copies: a crash
	// between the server's 250 and the "mark as sent" write.
	InWindow []Duplicate
	// Outside are every other copy beyond the first: a bug.
	Outside []Duplicate
	// Unreadable counts messages whose Message-ID names no email key.
	Unreadable int
}

// CountEmails counts the received copies per key. marks are the sent_at
// of the email records by Message-ID (nil: never marked); slack absorbs
// the few milliseconds between the server taking a message and the worker
// marking it.
func CountEmails(expected []EmailKey, received []smtptrap.Mail, marks map[string]*time.Time, faults []Fault) EmailCount {
	const slack = 50 * time.Millisecond
	c := EmailCount{Expected: len(expected), Unexpected: map[string]int{}}
	copies := map[EmailKey][]smtptrap.Mail{}
	for _, m := range received {
		kind, object, ok := ParseMessageID(m.MessageID)
		if !ok {
			c.Unreadable++
			continue
		}
		for _, to := range m.To {
			k := EmailKey{Kind: kind, Recipient: strings.ToLower(to), Object: object}
			copies[k] = append(copies[k], m)
		}
	}
	want := map[EmailKey]bool{}
	for _, k := range expected {
		k.Recipient = strings.ToLower(k.Recipient)
		want[k] = true
		if len(copies[k]) == 0 {
			c.Missing = append(c.Missing, k)
		} else {
			c.Delivered++
		}
	}
	for k, ms := range copies {
		if !want[k] {
			c.Unexpected[k.Kind]++
		}
		sort.Slice(ms, func(i, j int) bool { return ms[i].At.Before(ms[j].At) })
		for i := 1; i < len(ms); i++ {
			d := Duplicate{Key: k, Previous: ms[i-1].At, At: ms[i].At}
			for _, f := range faults {
				if f.From.Before(d.At) && !f.To.Before(d.Previous.Add(-slack)) {
					d.Faults = append(d.Faults, f.Kind)
				}
			}
			mark := marks[ms[i].MessageID]
			unmarked := mark == nil || !mark.Before(d.At.Add(-slack))
			if unmarked && len(d.Faults) > 0 {
				c.InWindow = append(c.InWindow, d)
			} else {
				c.Outside = append(c.Outside, d)
			}
		}
	}
	sort.Slice(c.Missing, func(i, j int) bool { return lessKey(c.Missing[i], c.Missing[j]) })
	return c
}

func lessKey(a, b EmailKey) bool {
	if a.Object != b.Object {
		return a.Object < b.Object
	}
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	return a.Recipient < b.Recipient
}
