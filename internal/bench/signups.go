package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/procurations/procuration/internal/auth"
)

// Signups measures a burst of public sign-ups on a campaign: each answered
// at once, every confirmation email then sent by its workflow, once. The
// baseline, in the same run, is /healthz, which also reads PostgreSQL and
// Temporal. The stack must not limit sign-ups per address
// (SIGNUPS_PER_ADDRESS=0), since the whole burst comes from one.
type Signups struct {
	APIURL      string
	Issuer      *auth.Issuer
	DB          *pgxpool.Pool
	Signups     int
	Concurrency int
	// Inbox is MailDev's web address, to count the messages it received;
	// empty: the database's record of sent emails only.
	Inbox string
	Out   io.Writer
}

func (b *Signups) Run(ctx context.Context) error {
	l := &Lifecycle{APIURL: b.APIURL, Issuer: b.Issuer, Dossiers: b.Signups, Concurrency: b.Concurrency}
	support, err := b.Issuer.Mint(auth.RoleSupport, "bench-support", nil, time.Hour)
	if err != nil {
		return err
	}
	id := fmt.Sprintf("bench-%d", time.Now().Unix())
	name := "Banc d'essai " + id
	campaign := map[string]any{"id": id, "name": name, "election_id": "presidentielle-2027",
		"sender": "Banc <banc@planprocu.example>", "matching_every_minutes": 0}
	raw, _ := json.Marshal(campaign)
	if status, resp, err := l.call(ctx, "POST", "/v1/campaigns", support, "application/json", raw); err != nil || status != 201 {
		return fmt.Errorf("campaign: %d %s %v", status, resp, err)
	}
	fmt.Fprintf(b.Out, "sign-ups: %d on campaign %s, %d at a time\n", b.Signups, id, b.Concurrency)

	health := &phase{name: "GET /healthz (baseline)", latencies: map[string][]time.Duration{}}
	if err := l.parallel(health, func(int) error {
		start := time.Now()
		status, _, err := l.call(ctx, "GET", "/healthz", "", "", nil)
		if err == nil && status != 200 {
			err = fmt.Errorf("healthz: %d", status)
		}
		health.record("call", time.Since(start))
		return err
	}); err != nil {
		return err
	}
	ours := &phase{name: "POST sign-up", latencies: map[string][]time.Duration{}}
	refused := 0
	start := time.Now()
	err = l.parallel(ours, func(i int) error {
		side := "requests"
		if i%2 == 1 {
			side = "volunteers"
		}
		body, _ := json.Marshal(map[string]any{"given_names": benchGivenName(i), "family_name": "BANC", "birth_date": "1980-01-01",
			"email": fmt.Sprintf("banc-%s-%d@example.fr", id, i), "commune_code": "75056", "rounds": []int{1, 2}, "consent": true})
		t := time.Now()
		status, resp, err := l.call(ctx, "POST", "/v1/campaigns/"+id+"/"+side, "", "application/json", body)
		ours.record("call", time.Since(t))
		if err != nil {
			return err
		}
		if status != 201 {
			recordMu.Lock()
			refused++
			recordMu.Unlock()
			return fmt.Errorf("sign-up: %d %s", status, resp)
		}
		return nil
	})
	answered := time.Since(start)
	if err != nil {
		fmt.Fprintf(b.Out, "first failure: %v\n", err)
	}

	// Every confirmation goes out, once, whatever the mail relay's pace.
	var sent, stored int
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		if err := b.DB.QueryRow(ctx, `SELECT count(*), count(e.sent_at) FROM signups s
			LEFT JOIN sent_emails e ON e.key = 'signup/' || s.id || '/confirmation' WHERE s.campaign_id = $1`, id).Scan(&stored, &sent); err != nil {
			return err
		}
		if stored > 0 && sent == stored {
			break
		}
		time.Sleep(time.Second)
	}
	allSent := time.Since(start)
	fmt.Fprintf(b.Out, "\n%-26s %8s %8s %8s\n", "", "p50", "p99", "failed")
	for _, p := range []*phase{health, ours} {
		fmt.Fprintf(b.Out, "%-26s %8s %8s %8d\n", p.name, percentile(p.latencies["call"], 0.5).Round(100*time.Microsecond),
			percentile(p.latencies["call"], 0.99).Round(100*time.Microsecond), p.failed)
	}
	fmt.Fprintf(b.Out, "ratio sign-up / baseline: p50 %.2f, p99 %.2f\n",
		ratio(percentile(ours.latencies["call"], 0.5), percentile(health.latencies["call"], 0.5)),
		ratio(percentile(ours.latencies["call"], 0.99), percentile(health.latencies["call"], 0.99)))
	fmt.Fprintf(b.Out, "answered: %d in %s (%.0f/s), refused %d\n", ours.done, answered.Round(time.Millisecond),
		float64(ours.done)/answered.Seconds(), refused)
	fmt.Fprintf(b.Out, "confirmations recorded sent: %d of %d sign-ups, all within %s\n", sent, stored, allSent.Round(time.Second))
	if b.Inbox != "" {
		perRecipient, err := b.inbox(ctx, id)
		if err != nil {
			return err
		}
		twice := 0
		for _, n := range perRecipient {
			if n > 1 {
				twice++
			}
		}
		fmt.Fprintf(b.Out, "at the inbox: %d recipients, %d received more than one\n", len(perRecipient), twice)
	}
	return nil
}

// inbox counts MailDev's messages per recipient of this run.
func (b *Signups) inbox(ctx context.Context, id string) (map[string]int, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", strings.TrimSuffix(b.Inbox, "/")+"/email", nil)
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var mails []struct {
		To []struct {
			Address string `json:"address"`
		} `json:"to"`
	}
	if err := json.NewDecoder(res.Body).Decode(&mails); err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, m := range mails {
		for _, to := range m.To {
			if strings.Contains(to.Address, "banc-"+id+"-") {
				out[to.Address]++
			}
		}
	}
	return out, nil
}
