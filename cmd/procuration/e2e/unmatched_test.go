package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/calendar"
	"github.com/procurations/procuration/internal/campaign"
	"github.com/procurations/procuration/internal/testenv"
)

// noticesTo are the notices to the first round's requesters without a
// volunteer that addr received.
func (s *stack) noticesTo(addr string) []testenv.Mail {
	var out []testenv.Mail
	for _, m := range s.smtp.To(addr) {
		if strings.Contains(m.Subject, "pas encore de volontaire") {
			out = append(out, m)
		}
	}
	return out
}

// details are what the Web UI shows of a workflow's state.
func (s *stack) details(c require.TestingT, id string) string {
	v, err := s.app.Temporal.QueryWorkflow(context.Background(), id, "", "__temporal_workflow_metadata")
	require.NoError(c, err)
	var m sdkpb.WorkflowMetadata
	require.NoError(c, v.Get(&m))
	return m.GetCurrentDetails()
}

// Ten days before the round, the confirmed requesters still without a
// volunteer are told once, whatever the mail relay does and however often
// the notice runs; those a live match holds, those of another round and
// those who never confirmed are not.
func TestUnmatchedRequestersToldOnceBeforeTheRound(t *testing.T) {
	s := newStack(t, "--confirmations-per-second=500")
	ctx := context.Background()
	require.Equal(t, 201, s.do("POST", "/v1/campaigns", s.support(), map[string]any{"id": "notices-2027", "name": "Notices 2027",
		"election_id": "presidentielle-2027", "sender": "Notices 2027 <contact@notices.example>", "matching_every_minutes": 0}).Status)
	// The campaign's own workflow waits for the first round's notice.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Contains(c, s.openTimers(campaign.LifeWorkflowID("notices-2027")), "prévenir les demandeurs sans volontaire du 1er tour")
	}, 20*time.Second, 100*time.Millisecond)

	person := func(given, email, commune string, rounds ...int) map[string]any {
		return map[string]any{"given_names": given, "family_name": "TEST", "birth_date": "1980-01-01", "email": email,
			"commune_code": commune, "polling_station": commune + "_0001", "rounds": rounds, "consent": true}
	}
	// Alice (Marseille) has no volunteer around; Bruno (Paris) is in a
	// live match; Emma's (Lyon) match was declined; Chloé (Nice) asks for
	// the second round only; Denis never confirmed his address.
	s.signUpConfirmed("notices-2027", "requests", person("Alice", "alice@example.fr", "13055", 1, 2))
	s.signUpConfirmed("notices-2027", "requests", person("Bruno", "bruno@example.fr", "75056", 1))
	s.signUpConfirmed("notices-2027", "volunteers", person("Vera", "vera@example.fr", "75056", 1))
	emma := s.signUpConfirmed("notices-2027", "requests", person("Emma", "emma@example.fr", "69123", 1))
	walid := s.signUpConfirmed("notices-2027", "volunteers", person("Walid", "walid@example.fr", "69123", 1))
	s.signUpConfirmed("notices-2027", "requests", person("Chloé", "chloe@example.fr", "06088", 2))
	require.Equal(t, 201, s.do("POST", "/v1/campaigns/notices-2027/requests", "", person("Denis", "denis@example.fr", "75056", 1)).Status)
	s.waitMails("denis@example.fr", 1)

	bo := s.token(auth.RoleBackOffice, "bo-notices", map[string]any{"campaigns": []string{"notices-2027"}})
	run := s.do("POST", "/v1/campaigns/notices-2027/matching-runs", bo, map[string]any{"dry_run": false})
	require.Equal(t, 200, run.Status, run.Raw)
	require.Len(t, run.Body["matches"], 2, run.Raw)
	var lyon string
	for _, m := range run.Body["matches"].([]any) {
		if m.(map[string]any)["request_id"] == emma {
			lyon = m.(map[string]any)["id"].(string)
		}
	}
	require.NotEmpty(t, lyon)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		m, err := s.app.Store.Match(ctx, lyon)
		require.NoError(c, err)
		require.Equal(c, "awaiting_answer", string(m.Status))
	}, 20*time.Second, 50*time.Millisecond)
	declined := s.do("POST", "/v1/matches/"+lyon+"/answer", s.link(auth.RoleVolunteer, walid, auth.PurposeAnswerOffer, lyon),
		map[string]any{"outcome": "declined"})
	require.Equal(t, 200, declined.Status, declined.Raw)
	s.waitMails("emma@example.fr", 3) // confirmation, offer, the match ended
	s.waitMails("bruno@example.fr", 2)

	// And a crowd signed up at the same instant: more than two pages of
	// the notice, whose order the sign-ups' ids break.
	_, err := s.app.Pool.Exec(ctx, `INSERT INTO signups (id, campaign_id, side, person_key, given_names, family_name, birth_date,
		email, commune_code, rounds, consent_at, status, confirmed_at, created_at)
		SELECT 'r-crowd-' || lpad(i::text, 4, '0'), 'notices-2027', 'request', 'crowd-' || i, 'Foule', 'TEST', '1980-01-01',
			'foule' || i || '@example.fr', '13055', '{1}', now(), 'pool', now(), '2026-11-30T12:00:00Z'
		FROM generate_series(1, 450) i`)
	require.NoError(t, err)

	// The notice as the campaign's workflow runs it at D-10, here due two
	// seconds from now, while the mail relay is away.
	day := calendar.StartOfDay(time.Date(2027, 4, 11, 0, 0, 0, 0, time.UTC))
	life := func() campaign.Life {
		return campaign.Life{Campaign: "notices-2027", ElectionEnd: day.Add(30 * 24 * time.Hour), Retention: 30 * 24 * time.Hour,
			Rounds: []campaign.Round{{Number: 1, Date: "2027-04-11"}}, UnmatchedNotice: time.Until(day) - 2*time.Second}
	}
	start := func(id string) {
		_, err := s.app.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: s.cfg.TaskQueue},
			campaign.LifeWorkflowName, life())
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.app.Temporal.TerminateWorkflow(context.Background(), id, "", "test over") })
	}
	s.smtp.Stop()
	start("notices-first")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var claimed int
		require.NoError(c, s.app.Pool.QueryRow(ctx, `SELECT count(*) FROM sent_emails WHERE kind = 'unmatched_notice'`).Scan(&claimed))
		require.NotZero(c, claimed, "a notice tried")
	}, 30*time.Second, 100*time.Millisecond)
	s.smtp.Start()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Contains(c, s.details(c, "notices-first"), "1er tour du 11 avril 2027 : 452 prévenus")
	}, 60*time.Second, 200*time.Millisecond)

	// The same notice again: nobody is told twice.
	start("notices-again")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Contains(c, s.details(c, "notices-again"), "1er tour du 11 avril 2027 : 0 prévenu")
	}, 30*time.Second, 200*time.Millisecond)

	for _, addr := range []string{"alice@example.fr", "emma@example.fr"} {
		got := s.noticesTo(addr)
		require.Len(t, got, 1, "one notice to %s", addr)
		m := got[0]
		require.Equal(t, "Notices 2027 : pas encore de volontaire pour le 1er tour du 11 avril 2027", m.Subject)
		require.Contains(t, m.From, "contact@notices.example", "the campaign's sender")
		require.Contains(t, m.Text, "nous n'avons pas encore trouvé de volontaire près de votre bureau de vote pour le 1er tour du 11 avril 2027")
		require.Contains(t, m.Text, s.url+"/demande", "the official request, on this deployment's portal")
		require.Contains(t, m.Text, "Votre inscription reste active")
	}
	told := map[string]int{}
	for _, m := range s.smtp.Received() {
		if strings.Contains(m.Subject, "pas encore de volontaire") {
			for _, to := range m.To {
				told[to]++
			}
		}
	}
	require.Len(t, told, 452)
	for addr, n := range told {
		require.Equal(t, 1, n, addr)
	}
	for _, addr := range []string{"bruno@example.fr", "chloe@example.fr", "denis@example.fr", "vera@example.fr", "walid@example.fr"} {
		require.Empty(t, s.noticesTo(addr), "no notice to %s", addr)
	}

	// What the history keeps is counts, never an address or a name.
	it := s.app.Temporal.GetWorkflowHistory(ctx, "notices-first", "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var (
		payloads strings.Builder
		attempts int32
	)
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		attempts = max(attempts, e.GetActivityTaskStartedEventAttributes().GetAttempt())
		raw, err := temporalproto.CustomJSONMarshalOptions{}.Marshal(e)
		require.NoError(t, err)
		payloads.WriteString(decodedPayloads(raw))
	}
	require.Contains(t, payloads.String(), `"Told":452`, "the counts are there")
	require.GreaterOrEqual(t, attempts, int32(2), "the notice was tried again once the relay was back")
	for _, personal := range []string{"@example.fr", "Alice", "Emma"} {
		require.NotContains(t, payloads.String(), personal)
	}
}

// decodedPayloads is the data of a history event's payloads, decoded.
func decodedPayloads(event []byte) string {
	var doc any
	_ = json.Unmarshal(event, &doc)
	var out strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if str, ok := x.(string); ok && k == "data" {
					if b, err := base64.StdEncoding.DecodeString(str); err == nil {
						out.Write(b)
						out.WriteByte('\n')
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	return out.String()
}
