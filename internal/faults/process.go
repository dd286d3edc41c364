package faults

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Process is a child the harness runs, kills and starts again. While it is
// wanted, an exit the harness did not ask for is followed by a new start a
// second later, as a supervisor (systemd, Kubernetes) would do: a worker
// that cannot reach Temporal at startup exits, and comes back.
type Process struct {
	Name string
	Path string
	Args []string
	// Env is added to the harness's own environment; later entries win.
	Env []string
	// Log receives the child's stdout and stderr.
	Log io.Writer

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	wanted  bool
	starts  int
	crashes int
}

// Start runs the process and keeps it running until Kill or Stop.
func (p *Process) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.wanted {
		return fmt.Errorf("%s: already running", p.Name)
	}
	p.wanted = true
	return p.spawn()
}

// spawn starts one run; the caller holds the lock.
func (p *Process) spawn() error {
	cmd := exec.Command(p.Path, p.Args...)
	cmd.Env = append(os.Environ(), p.Env...)
	cmd.Stdout, cmd.Stderr = p.Log, p.Log
	cmd.SysProcAttr = childAttributes()
	// A grandchild holding the output open does not keep the run alive.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		p.wanted = false
		return fmt.Errorf("%s: %w", p.Name, err)
	}
	p.starts++
	exited := make(chan struct{})
	p.cmd, p.exited = cmd, exited
	go func() {
		_ = cmd.Wait()
		close(exited)
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.cmd != cmd || !p.wanted {
			return
		}
		p.crashes++
		p.log("exited on its own (%v); starting it again in 1s", cmd.ProcessState)
		time.AfterFunc(time.Second, func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.wanted && p.cmd == cmd {
				if err := p.spawn(); err != nil {
					p.log("restart failed: %v", err)
				}
			}
		})
	}()
	return nil
}

func (p *Process) log(format string, args ...any) {
	if p.Log != nil {
		fmt.Fprintf(p.Log, "=== harness: %s %s: %s\n", time.Now().Format(time.TimeOnly), p.Name, fmt.Sprintf(format, args...))
	}
}

// Kill sends SIGKILL and waits for the process to be gone: no shutdown
// code of its own runs.
func (p *Process) Kill() error { return p.halt(syscall.SIGKILL, 0) }

// Stop asks the process to end (SIGTERM), and kills it after grace.
func (p *Process) Stop(grace time.Duration) error { return p.halt(syscall.SIGTERM, grace) }

func (p *Process) halt(sig syscall.Signal, grace time.Duration) error {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.wanted = false
	p.mu.Unlock()
	if cmd == nil {
		return errors.New(p.Name + ": not started")
	}
	p.log("sending %v", sig)
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	if grace > 0 {
		select {
		case <-exited:
			return nil
		case <-time.After(grace):
			_ = cmd.Process.Kill()
		}
	}
	select {
	case <-exited:
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("%s: still running 30s after %v", p.Name, sig)
	}
}

// Pid is the current run's process id, 0 before the first start.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Running reports whether the current run has not exited.
func (p *Process) Running() bool {
	p.mu.Lock()
	exited := p.exited
	p.mu.Unlock()
	if exited == nil {
		return false
	}
	select {
	case <-exited:
		return false
	default:
		return true
	}
}

// Starts counts every start, the supervisor's included; Crashes the exits
// nobody asked for.
func (p *Process) Starts() int  { p.mu.Lock(); defer p.mu.Unlock(); return p.starts }
func (p *Process) Crashes() int { p.mu.Lock(); defer p.mu.Unlock(); return p.crashes }
