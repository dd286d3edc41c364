package faults

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/searchattrs"
	"github.com/procurations/procuration/internal/smtptrap"
)

// Stack is the system the harness runs on its own free ports: a Temporal
// dev server, a PostgreSQL cluster, an SMTP server, and the binary's api
// and worker roles, each a process of its own so that it can be killed.
type Stack struct {
	Dir          string
	APIURL       string
	DatabaseURL  string
	TemporalAddr string
	TaskQueue    string

	Temporal *Process
	API      *Process
	Worker   *Process
	Postgres *Postgres
	SMTP     *smtptrap.Server
	Issuer   *auth.Issuer
	// DB is the harness's own connection, for the final checks.
	DB *pgxpool.Pool

	binary string
	env    []string
	logs   []io.Closer
}

// StackOptions say where the programs are.
type StackOptions struct {
	// Binary is this project's binary (the harness's own executable).
	Binary string
	// TemporalCLI is the temporal command, with its dev server.
	TemporalCLI string
	// PostgresScript is deploy/dev/postgres.sh.
	PostgresScript string
	// Dir holds the data and the logs; a new temporary folder when empty.
	Dir string
	// MatchDossierCheck is how often a linked match reads its dossier.
	MatchDossierCheck time.Duration
}

// StartStack brings everything up and waits until the API is ready.
func StartStack(ctx context.Context, o StackOptions) (_ *Stack, err error) {
	s := &Stack{Dir: o.Dir, binary: o.Binary, TaskQueue: "procurations-faults"}
	if s.Dir == "" {
		if s.Dir, err = os.MkdirTemp("", "procuration-faults-"); err != nil {
			return nil, err
		}
	}
	// The cluster runs as the postgres user when the harness is root.
	if err := os.Chmod(s.Dir, 0o755); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	ports, err := FreePorts(3)
	if err != nil {
		return nil, err
	}
	temporalPort, pgPort, apiPort := ports[0], ports[1], ports[2]
	s.TemporalAddr = fmt.Sprintf("127.0.0.1:%d", temporalPort)
	s.APIURL = fmt.Sprintf("http://127.0.0.1:%d", apiPort)
	s.DatabaseURL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/procuration?sslmode=disable", pgPort)

	s.Postgres = &Postgres{Script: o.PostgresScript, Dir: filepath.Join(s.Dir, "postgres"), Port: pgPort}
	if err := s.Postgres.Start(); err != nil {
		return nil, err
	}
	s.SMTP = &smtptrap.Server{}
	if err := s.SMTP.Start(); err != nil {
		return nil, err
	}
	args := []string{"server", "start-dev", "--db-filename", filepath.Join(s.Dir, "temporal.db"), "--ip", "127.0.0.1",
		"--port", strconv.Itoa(temporalPort), "--headless", "--log-level", "error"}
	for key := range searchattrs.All().GetUntypedValues() {
		args = append(args, "--search-attribute", key.GetName()+"="+key.GetValueType().String())
	}
	if s.Temporal, err = s.process("temporal", o.TemporalCLI, args...); err != nil {
		return nil, err
	}
	if err := s.Temporal.Start(); err != nil {
		return nil, err
	}

	keys := filepath.Join(s.Dir, "issuer.pem")
	if s.Issuer, err = auth.LoadOrCreateIssuer(s.APIURL, "procuration", keys, true); err != nil {
		return nil, err
	}
	check := o.MatchDossierCheck
	if check <= 0 {
		check = 5 * time.Second
	}
	s.env = []string{
		"ENVIRONMENT=development", "LOG_LEVEL=warn", "DATABASE_URL=" + s.DatabaseURL, "TEMPORAL_ADDRESS=" + s.TemporalAddr,
		"TEMPORAL_NAMESPACE=default", "TEMPORAL_TASK_QUEUE=" + s.TaskQueue, "HTTP_ADDR=" + s.APIURL[len("http://"):], "PUBLIC_URL=" + s.APIURL,
		"ISSUER_KEY=" + keys, "DEV_ISSUER=true", "PORTAL_ENCRYPTION_KEYS=" + filepath.Join(s.Dir, "portal-encryption.pem"),
		"SMTP_HOST=127.0.0.1", "SMTP_PORT=" + strconv.Itoa(s.SMTP.Port), "SMTP_TLS=none", "MAIL_DOMAIN=procuration.example",
		"MATCH_DOSSIER_CHECK=" + check.String(),
		// Every sign-up comes from 127.0.0.1, and a client retries: the
		// abuse limits would refuse the harness, not a fault.
		"SIGNUPS_PER_ADDRESS=0", "SIGNUPS_PER_EMAIL=0",
	}
	for _, step := range []string{"migrate", "seed"} {
		if err := s.runOnce(ctx, step); err != nil {
			return nil, err
		}
	}
	if s.API, err = s.process("api", o.Binary, "api"); err != nil {
		return nil, err
	}
	if s.Worker, err = s.process("worker", o.Binary, "worker"); err != nil {
		return nil, err
	}
	if err := s.Worker.Start(); err != nil {
		return nil, err
	}
	if err := s.API.Start(); err != nil {
		return nil, err
	}
	if err := s.WaitReady(ctx, 2*time.Minute); err != nil {
		return nil, err
	}
	if s.DB, err = pgxpool.New(ctx, s.DatabaseURL); err != nil {
		return nil, err
	}
	return s, nil
}

// process prepares a child whose output goes to DIR/logs/NAME.log.
func (s *Stack) process(name, path string, args ...string) (*Process, error) {
	if err := os.MkdirAll(filepath.Join(s.Dir, "logs"), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(s.Dir, "logs", name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	s.logs = append(s.logs, f)
	return &Process{Name: name, Path: path, Args: args, Env: s.env, Log: f}, nil
}

// runOnce runs one of the binary's operations against the stack, retrying
// while Temporal or PostgreSQL are still coming up.
func (s *Stack) runOnce(ctx context.Context, step string) error {
	var out []byte
	var err error
	for range 30 {
		cmd := exec.CommandContext(ctx, s.binary, step)
		cmd.Env = append(os.Environ(), s.env...)
		if out, err = cmd.CombinedOutput(); err == nil {
			return nil
		}
		time.Sleep(time.Second)
	}
	return fmt.Errorf("procuration %s: %v\n%s", step, err, out)
}

// WaitReady waits until /readyz answers 200: PostgreSQL and Temporal
// reachable, a worker polling.
func (s *Stack) WaitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.APIURL+"/readyz", nil)
		res, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the stack is not ready after %s (logs in %s): %w", timeout, filepath.Join(s.Dir, "logs"), ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Close stops everything; the folder stays for its logs.
func (s *Stack) Close() {
	if s.DB != nil {
		s.DB.Close()
	}
	for _, p := range []*Process{s.API, s.Worker, s.Temporal} {
		if p != nil && p.Pid() != 0 {
			_ = p.Stop(10 * time.Second)
		}
	}
	if s.SMTP != nil {
		s.SMTP.Stop()
	}
	if s.Postgres != nil {
		_ = s.Postgres.Stop()
	}
	for _, f := range s.logs {
		_ = f.Close()
	}
}

// Postgres is a private cluster run by the script `make run` uses.
type Postgres struct {
	Script string
	Dir    string
	Port   int
}

// Start (again) runs the cluster, creating it the first time.
func (pg *Postgres) Start() error {
	out, err := exec.Command(pg.Script, "start", pg.Dir, strconv.Itoa(pg.Port)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("starting PostgreSQL: %v\n%s", err, out)
	}
	return nil
}

// Stop shuts it down at once ("fast": every connection closed).
func (pg *Postgres) Stop() error {
	out, err := exec.Command(pg.Script, "stop", pg.Dir, strconv.Itoa(pg.Port)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("stopping PostgreSQL: %v\n%s", err, out)
	}
	return nil
}

// FreePorts asks the kernel for n ports nobody listens on, all different.
func FreePorts(n int) ([]int, error) {
	var out []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		listeners = append(listeners, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

// FindTool is the first of the paths that exists, or an error naming what
// to install.
func FindTool(what string, paths ...string) (string, error) {
	for _, p := range paths {
		if p == "" {
			continue
		}
		if filepath.Base(p) == p {
			if found, err := exec.LookPath(p); err == nil {
				return found, nil
			}
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New(what + " not found")
}
