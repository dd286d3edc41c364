package service

import (
	"net"
	"sync"
	"time"
)

// limiter counts events per key in a sliding window. It is per process: a
// deployment with several API replicas multiplies the limit by their number.
type limiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	events map[string][]time.Time
}

func newLimiter(limit int, window time.Duration) *limiter {
	return &limiter{limit: limit, window: window, events: map[string][]time.Time{}}
}

// allow records an event for key, or says how long to wait.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	if l.limit <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	kept := l.events[key][:0]
	for _, t := range l.events[key] {
		if now.Sub(t) < l.window {
			kept = append(kept, t)
		}
	}
	if len(kept) >= l.limit {
		l.events[key] = kept
		return false, l.window - now.Sub(kept[0])
	}
	l.events[key] = append(kept, now)
	if len(l.events) > 100000 {
		l.sweep(now)
	}
	return true, 0
}

func (l *limiter) sweep(now time.Time) {
	for k, ts := range l.events {
		if len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= l.window {
			delete(l.events, k)
		}
	}
}

// clientAddress drops the port: one machine, one budget.
func clientAddress(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return remote
	}
	return host
}
