package bench

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
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
	// Rate, when set, sends the sign-ups at that many a second whatever
	// the answers (an open loop: a surge does not wait for the server),
	// rather than Concurrency at a time.
	Rate int
	// Addresses, when set, has the sign-ups come two by two from their
	// own client address (X-Forwarded-For: the stack must trust this
	// machine as a proxy, TRUSTED_PROXIES=127.0.0.1/32), the per-address
	// limit left on; then one address goes over the limit, to show it holds.
	Addresses bool
	// Inbox is MailDev's web address, to count the messages it received;
	// empty: the database's record of sent emails only.
	Inbox string
	Out   io.Writer
}

// signupClient keeps connections for the surge, as browsers behind a
// load balancer would not open one per request.
var signupClient = &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 512}}

func (b *Signups) post(ctx context.Context, path, address string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", b.APIURL+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if address != "" {
		req.Header.Set("X-Forwarded-For", address)
	}
	res, err := signupClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, nil
}

// household is the client address of the i-th sign-up: two a home.
func household(i int) string {
	return fmt.Sprintf("10.%d.%d.%d", (i/2)>>16&255, (i/2)>>8&255, (i/2)&255)
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
	signUp := func(i int) error {
		side := "requests"
		if i%2 == 1 {
			side = "volunteers"
		}
		body, _ := json.Marshal(map[string]any{"given_names": benchGivenName(i), "family_name": "BANC", "birth_date": "1980-01-01",
			"email": fmt.Sprintf("banc-%s-%d@example.fr", id, i), "commune_code": "75056", "rounds": []int{1, 2}, "consent": true})
		address := ""
		if b.Addresses {
			address = household(i)
		}
		t := time.Now()
		status, err := b.post(ctx, "/v1/campaigns/"+id+"/"+side, address, body)
		ours.record("call", time.Since(t))
		if err == nil && status != 201 {
			recordMu.Lock()
			refused++
			recordMu.Unlock()
			err = fmt.Errorf("sign-up: %d", status)
		}
		return err
	}
	start := time.Now()
	if b.Rate > 0 {
		fmt.Fprintf(b.Out, "an open loop of %d sign-ups a second (%s for all)\n", b.Rate,
			(time.Duration(b.Signups) * time.Second / time.Duration(b.Rate)).Round(time.Second))
		err = b.openLoop(ours, signUp)
	} else {
		err = l.parallel(ours, signUp)
	}
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
	if b.Addresses {
		// The limit still holds for the one address that goes over it.
		accepted, limited := 0, 0
		for i := range 40 {
			body, _ := json.Marshal(map[string]any{"given_names": benchGivenName(i), "family_name": "ABUS", "birth_date": "1980-01-01",
				"email": fmt.Sprintf("abus-%s-%d@example.fr", id, i), "commune_code": "75056", "rounds": []int{1}, "consent": true})
			status, err := b.post(ctx, "/v1/campaigns/"+id+"/requests", "192.0.2.1", body)
			switch {
			case err != nil:
				return err
			case status == 201:
				accepted++
			case status == http.StatusTooManyRequests:
				limited++
			}
		}
		fmt.Fprintf(b.Out, "one address, 40 sign-ups after the surge: %d accepted, %d refused with 429\n", accepted, limited)
	}
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

// openLoop starts job(i) at b.Rate a second, each in its own goroutine,
// and waits for them all.
func (b *Signups) openLoop(p *phase, job func(i int) error) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	tick := time.NewTicker(time.Second / time.Duration(b.Rate))
	defer tick.Stop()
	for i := range b.Signups {
		<-tick.C
		wg.Go(func() {
			err := job(i)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				p.failed++
				first = cmp.Or(first, err)
			} else {
				p.done++
			}
		})
	}
	wg.Wait()
	return first
}
