package faults

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/procurations/procuration/internal/testenv"
)

// The harness's own stack comes up on free ports, and comes back ready
// from each fault it can cause: the API, the worker and Temporal killed,
// PostgreSQL and the SMTP server stopped.
func TestStackSurvivesEachFault(t *testing.T) {
	if testing.Short() && !testenv.Required() {
		t.Skip("integration test")
	}
	root := testenv.ModuleRoot(t)
	cli := testenv.TemporalCLI(t)
	if matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb"); len(matches) == 0 {
		if _, err := exec.LookPath("initdb"); err != nil {
			testenv.Unavailable(t, "PostgreSQL server binaries not found")
		}
	}
	binary := filepath.Join(t.TempDir(), "procuration")
	out, err := exec.Command("go", "build", "-o", binary, filepath.Join(root, "cmd", "procuration")).CombinedOutput()
	require.NoError(t, err, "%s", out)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := StartStack(ctx, StackOptions{Binary: binary, TemporalCLI: cli, PostgresScript: filepath.Join(root, "deploy", "dev", "postgres.sh")})
	require.NoError(t, err)
	defer func() {
		s.Close()
		_ = os.RemoveAll(s.Dir) // a folder of its own: the cluster's owner must reach it
	}()
	port := s.SMTP.Port
	for _, kind := range []string{KillWorker, KillAPI, KillTemporal, StopPostgres, StopSMTP} {
		require.NoError(t, s.Break(kind), kind)
		require.NoError(t, s.Repair(kind), kind)
		require.NoError(t, s.WaitReady(ctx, time.Minute), "ready again after %s", kind)
	}
	require.Equal(t, port, s.SMTP.Port, "the SMTP server is back on its port")
	require.Equal(t, 2, s.Worker.Starts())
	require.Zero(t, s.API.Crashes())
	var n int
	require.NoError(t, s.DB.QueryRow(ctx, `SELECT count(*) FROM communes`).Scan(&n))
	require.Positive(t, n, "seeded")
}
