package faults

import "syscall"

// childAttributes: a child dies with the harness, whatever kills it, so
// that no server outlives a run; in a process group of its own, it gets
// no Ctrl-C meant for the harness, which stops it in order.
func childAttributes() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
