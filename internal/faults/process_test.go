package faults

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// Killed, a process stays down until started again; exiting on its own,
// it is started again by the supervisor.
func TestProcessKilledRestartedAndSupervised(t *testing.T) {
	log := &lockedBuffer{}
	p := &Process{Name: "sleeper", Path: "sleep", Args: []string{"60"}, Log: log}
	require.NoError(t, p.Start())
	first := p.Pid()
	require.NotZero(t, first)
	require.NoError(t, p.Kill())
	require.False(t, p.Running())
	time.Sleep(1500 * time.Millisecond)
	require.False(t, p.Running(), "a killed process is not restarted by the supervisor")
	require.NoError(t, p.Start())
	require.NotEqual(t, first, p.Pid())
	require.True(t, p.Running())
	require.NoError(t, p.Stop(time.Second))
	require.Equal(t, 2, p.Starts())
	require.Zero(t, p.Crashes())

	crasher := &Process{Name: "crasher", Path: "/bin/sh", Args: []string{"-c", "sleep 0.1; exit 3"}, Log: log}
	require.NoError(t, crasher.Start())
	require.Eventually(t, func() bool { return crasher.Starts() >= 2 }, 5*time.Second, 50*time.Millisecond)
	require.NoError(t, crasher.Kill())
	require.GreaterOrEqual(t, crasher.Crashes(), 1)
	require.Contains(t, log.String(), "exited on its own")
}

type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) Break(kind string) error  { r.add("break " + kind); return nil }
func (r *recorder) Repair(kind string) error { r.add("repair " + kind); return nil }
func (r *recorder) add(e string)             { r.mu.Lock(); r.events = append(r.events, e); r.mu.Unlock() }

// The injector runs its cycles in order, repairs every fault it causes,
// and records when each was under way.
func TestInjectorRunsCyclesAndRepairsEachFault(t *testing.T) {
	r := &recorder{}
	in := &Injector{Plan: []PlannedFault{{After: 10 * time.Millisecond, Kind: KillWorker, Down: 20 * time.Millisecond},
		{After: 40 * time.Millisecond, Kind: StopSMTP, Down: 10 * time.Millisecond}}, Cycle: 80 * time.Millisecond, Breaker: r}
	in.Run(t.Context(), 2, func() bool { return false })
	require.Equal(t, []string{"break worker SIGKILL", "repair worker SIGKILL", "break SMTP server stopped", "repair SMTP server stopped",
		"break worker SIGKILL", "repair worker SIGKILL", "break SMTP server stopped", "repair SMTP server stopped"}, r.events)
	faults := in.Faults()
	require.Len(t, faults, 4)
	for _, f := range faults {
		require.GreaterOrEqual(t, f.To.Sub(f.From), 10*time.Millisecond)
	}
	require.Empty(t, in.Errors())
}
