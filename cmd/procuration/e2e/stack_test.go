// Package e2e drives the system over HTTP against a real Temporal dev
// server, a real PostgreSQL and a real SMTP server, all started by the test.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/procurations/procuration/api"
	"github.com/procurations/procuration/cmd/procuration/app"
	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/config"
	"github.com/procurations/procuration/internal/db"
	"github.com/procurations/procuration/internal/geo"
	"github.com/procurations/procuration/internal/testenv"
)

type stack struct {
	t      *testing.T
	pg     *testenv.PG
	app    *app.App
	cfg    config.Config
	url    string
	smtp   *testenv.SMTP
	issuer *auth.Issuer
	worker worker.Worker
}

// newStack starts PostgreSQL, Temporal, SMTP, the API and a worker, with
// the demo communes, election and fixed voters loaded. Flags override the
// configuration as on the command line.
func newStack(t *testing.T, flags ...string) *stack {
	if testing.Short() && !testenv.Required() {
		t.Skip("integration test")
	}
	pg := testenv.StartPostgres(t)
	dbURL := pg.URL
	temporalAddr := testenv.Temporal(t)
	mail := testenv.StartSMTP(t)

	srv := httptest.NewUnstartedServer(nil)
	url := "http://" + srv.Listener.Addr().String()
	var cfg config.Config
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	cfg.Register(fs, config.RoleAll)
	require.NoError(t, fs.Parse(append([]string{
		"--database-url=" + dbURL, "--temporal-address=" + temporalAddr, "--task-queue=procurations-test",
		fmt.Sprintf("--smtp-port=%d", mail.Port), "--smtp-host=127.0.0.1", "--public-url=" + url,
		"--issuer-key=" + filepath.Join(t.TempDir(), "issuer.pem"), "--dev-issuer=true",
		"--portal-encryption-keys=" + filepath.Join(t.TempDir(), "portal-encryption.pem"),
	}, flags...)))
	require.NoError(t, cfg.Finish())

	ctx := context.Background()
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	a, err := app.Open(ctx, cfg, log)
	require.NoError(t, err)
	t.Cleanup(a.Close)
	_, err = db.Migrate(ctx, a.Pool)
	require.NoError(t, err)
	communes, err := geo.Communes()
	require.NoError(t, err)
	require.NoError(t, a.Store.LoadCommunes(ctx, communes))
	require.NoError(t, a.Store.UpsertElection(ctx, geo.DemoElection))

	handler, err := a.Handler()
	require.NoError(t, err)
	srv.Config.Handler = handler
	srv.Listener = api.Listener(srv.Listener)
	srv.Start()
	t.Cleanup(srv.Close)
	issuer, err := a.Issuer()
	require.NoError(t, err)

	s := &stack{t: t, pg: pg, app: a, cfg: cfg, url: url, smtp: mail, issuer: issuer}
	s.startWorker()
	t.Cleanup(s.stopWorker)
	return s
}

func (s *stack) startWorker() {
	w, err := s.app.Worker()
	require.NoError(s.t, err)
	require.NoError(s.t, w.Start())
	s.worker = w
	require.NoError(s.t, s.app.StartConfirmationSender(context.Background()))
}

func (s *stack) stopWorker() {
	if s.worker != nil {
		s.worker.Stop()
		s.worker = nil
	}
}

func (s *stack) token(role, sub string, claims map[string]any) string {
	tok, err := s.issuer.Mint(role, sub, claims, time.Hour)
	require.NoError(s.t, err)
	return tok
}

// Tokens of the people the tests play.
func (s *stack) grantor(sub, nne string) string {
	for _, v := range geo.DemoVoters {
		if v.NNE == nne {
			return s.token(auth.RoleGrantor, sub, map[string]any{"given_name": v.GivenNames, "family_name": v.FamilyName,
				"birthdate": v.BirthDate.Format(time.DateOnly), "gender": "female", "email": sub + "@example.fr"})
		}
	}
	s.t.Fatalf("no demo voter %s", nne)
	return ""
}

func (s *stack) police(sub string) string {
	return s.token(auth.RolePolice, sub, map[string]any{"given_name": "Paul", "family_name": "LEMAIRE", "rank": "brigadier-chef",
		"unit": "Commissariat central du 11e arrondissement"})
}

func (s *stack) townHall(sub string, communes ...string) string {
	return s.token(auth.RoleTownHall, sub, map[string]any{"given_name": "Inès", "family_name": "GARNIER", "communes": communes})
}

func (s *stack) support() string { return s.token(auth.RoleSupport, "support-1", nil) }

type response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

// state is the current status a 409 names in its errors.
func (r response) state() string {
	list, _ := r.Body["errors"].([]any)
	for _, e := range list {
		if d, ok := e.(map[string]any); ok && d["location"] == "status" {
			v, _ := d["value"].(string)
			return v
		}
	}
	return ""
}

func (s *stack) do(method, path, token string, body any, headers ...string) response {
	s.t.Helper()
	var r io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		r, contentType = strings.NewReader(b), "text/csv"
	case url.Values:
		r, contentType = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		raw, err := json.Marshal(b)
		require.NoError(s.t, err)
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.url+path, r)
	require.NoError(s.t, err)
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(s.t, err)
	out := response{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

// waitMails waits until addr has received n messages and returns them.
func (s *stack) waitMails(addr string, n int) []testenv.Mail {
	s.t.Helper()
	require.EventuallyWithT(s.t, func(c *assert.CollectT) {
		require.GreaterOrEqual(c, len(s.smtp.To(addr)), n)
	}, 30*time.Second, 50*time.Millisecond, "waiting for %d emails to %s", n, addr)
	return s.smtp.To(addr)
}

func (s *stack) create(token, grantorNNE, commune, proxyNNE, proxyBirth string) response {
	return s.do("POST", "/v1/procurations", token, map[string]any{
		"grantor":  map[string]any{"nne": grantorNNE, "commune_code": commune},
		"proxy":    map[string]any{"nne": proxyNNE, "birth_date": proxyBirth},
		"validity": map[string]any{"election_id": geo.DemoElection.ID, "rounds": []int{1, 2}},
	})
}

// loadVoters imports the demo voters through the API.
func (s *stack) loadVoters(extra ...string) {
	var csv strings.Builder
	csv.WriteString("nne,family_name,given_names,sex,birth_date,commune_code,polling_station\n")
	for _, v := range geo.DemoVoters {
		fmt.Fprintf(&csv, "%s,%s,%s,%s,%s,%s,%s\n", v.NNE, v.FamilyName, v.GivenNames, v.Sex, v.BirthDate.Format(time.DateOnly), v.CommuneCode, v.PollingStation)
	}
	for _, line := range extra {
		csv.WriteString(line + "\n")
	}
	res := s.do("POST", "/v1/register/imports", s.support(), csv.String())
	require.Equal(s.t, 200, res.Status, res.Raw)
	// The communes' lists of stations, as the seed names them.
	codes, err := s.app.Store.StationCodes(context.Background())
	require.NoError(s.t, err)
	_, err = s.app.Store.UpsertPollingStations(context.Background(), geo.SyntheticStations(codes, func(code string) string {
		return map[string]string{"75056": "Paris", "69123": "Lyon"}[code]
	}))
	require.NoError(s.t, err)
}

// countsAgree checks the town halls' counts by status, kept up to date by
// the dossiers' writes, against a count of the dossiers themselves.
func (s *stack) countsAgree() {
	s.t.Helper()
	var disagree int
	require.NoError(s.t, s.app.Pool.QueryRow(context.Background(), `SELECT count(*) FROM (
		SELECT grantor_commune_code, status, count(*) AS n FROM procurations GROUP BY 1, 2) c
		FULL JOIN (SELECT * FROM commune_status_counts WHERE n <> 0) k
		ON k.commune_code = c.grantor_commune_code AND k.status = c.status
		WHERE k.n IS DISTINCT FROM c.n`).Scan(&disagree))
	var kept int
	require.NoError(s.t, s.app.Pool.QueryRow(context.Background(), `SELECT coalesce(sum(n), 0) FROM commune_status_counts`).Scan(&kept))
	assert.Zero(s.t, disagree, "counts by commune and status that differ from the dossiers")
	assert.NotZero(s.t, kept, "no dossier counted")
}
