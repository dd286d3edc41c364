// Package testenv starts the real parts integration tests run against: a
// private PostgreSQL cluster, a Temporal dev server and an SMTP server, each
// on a free port, so tests pass while `make run` is up.
//
// Under `make test` (PROCURATION_INTEGRATION=required) a missing binary
// fails the test; a plain `go test` skips it.
package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/procurations/procuration/internal/searchattrs"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
)

// Required reports whether integration tests must run.
func Required() bool { return os.Getenv("PROCURATION_INTEGRATION") == "required" }

// Unavailable skips or fails the test, as the mode says.
func Unavailable(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if Required() {
		tb.Fatalf(format, args...)
	}
	tb.Skipf(format+" (make test provides it)", args...)
}

// FreePort asks the kernel for a port nobody listens on.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ModuleRoot is the folder holding go.mod.
func ModuleRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("go.mod not found")
		}
		dir = parent
	}
}

// Postgres starts a private cluster with deploy/dev/postgres.sh, the script
// `make run` uses, and returns the URL of its procuration database.
func Postgres(tb testing.TB) string { return StartPostgres(tb).URL }

// PG is a private PostgreSQL cluster a test can stop and start again, as a
// database going away would.
type PG struct {
	URL    string
	dir    string
	port   string
	script string
	tb     testing.TB
}

// StartPostgres starts a private cluster on a free port.
func StartPostgres(tb testing.TB) *PG {
	tb.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		Unavailable(tb, "bash not found")
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if _, err := exec.LookPath("initdb"); err != nil && len(matches) == 0 {
		Unavailable(tb, "PostgreSQL server binaries not found (apt-get install postgresql)")
	}
	dir, err := os.MkdirTemp("", "procuration-pg-")
	if err != nil {
		tb.Fatal(err)
	}
	_ = os.Chmod(dir, 0o755)
	pg := &PG{dir: dir, port: strconv.Itoa(FreePort(tb)), script: filepath.Join(ModuleRoot(tb), "deploy/dev/postgres.sh"), tb: tb}
	pg.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%s/procuration?sslmode=disable", pg.port)
	pg.Start()
	tb.Cleanup(func() {
		_ = exec.Command(pg.script, "stop", dir, pg.port).Run()
		_ = os.RemoveAll(dir)
		_ = os.Remove(dir + ".initdb.log")
	})
	return pg
}

// Start (again) runs the cluster.
func (pg *PG) Start() {
	pg.tb.Helper()
	if out, err := exec.Command(pg.script, "start", pg.dir, pg.port).CombinedOutput(); err != nil {
		pg.tb.Fatalf("starting PostgreSQL: %v\n%s", err, out)
	}
}

// Stop shuts the cluster down at once, closing every connection. It may
// run outside the test's goroutine, so it reports rather than fails.
func (pg *PG) Stop() error {
	if out, err := exec.Command(pg.script, "stop", pg.dir, pg.port).CombinedOutput(); err != nil {
		return fmt.Errorf("stopping PostgreSQL: %v\n%s", err, out)
	}
	return nil
}

// TemporalCLI finds the temporal binary: $TEMPORAL_CLI, PATH, then bin/.
func TemporalCLI(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("TEMPORAL_CLI"); p != "" {
		return p
	}
	if p, err := exec.LookPath("temporal"); err == nil {
		return p
	}
	p := filepath.Join(ModuleRoot(tb), "bin", "temporal")
	if _, err := os.Stat(p); err != nil {
		Unavailable(tb, "temporal CLI not found")
	}
	return p
}

// Temporal starts a dev server with the project's search attributes and
// returns its address.
func Temporal(tb testing.TB) string {
	tb.Helper()
	// The server picks its HTTP and metrics ports itself, free when it
	// looks: another package's server may take one first, and this one
	// exits. A new attempt picks others.
	var err error
	for range 3 {
		var srv *testsuite.DevServer
		srv, err = startTemporal(tb)
		if err == nil {
			tb.Cleanup(func() { _ = srv.Stop() })
			return srv.FrontendHostPort()
		}
	}
	tb.Fatalf("starting the Temporal dev server: %v", err)
	return ""
}

func startTemporal(tb testing.TB) (*testsuite.DevServer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	return testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:     TemporalCLI(tb),
		ClientOptions:    &client.Options{HostPort: fmt.Sprintf("127.0.0.1:%d", FreePort(tb)), Namespace: "default"},
		SearchAttributes: searchattrs.All(),
		LogLevel:         "error",
		Stdout:           os.Stderr,
		Stderr:           os.Stderr,
	})
}
