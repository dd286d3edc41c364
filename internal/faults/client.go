package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Client is the portals, the back office and the people of the run as the
// API sees them: every answer is counted, and an action is retried through
// outages until it gets a final answer or its deadline passes.
type Client struct {
	BaseURL string
	HTTP    *http.Client
	// Slots bounds the requests under way at once.
	Slots chan struct{}

	mu       sync.Mutex
	statuses map[int]int
	// conn counts requests that got no answer: refused, reset, timed out.
	conn     int
	requests int
}

// NewClient is a client of baseURL with at most parallel requests at once.
func NewClient(baseURL string, parallel int) *Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = parallel
	// An update waits up to 30 s in the API: give it more before giving up.
	return &Client{BaseURL: baseURL, HTTP: &http.Client{Transport: transport, Timeout: 45 * time.Second},
		Slots: make(chan struct{}, parallel), statuses: map[int]int{}}
}

// Request is one call of the API.
type Request struct {
	Method, Path, Token string
	Body                any
	// IdempotencyKey makes a retried create return the first one's dossier.
	IdempotencyKey string
}

// Response is what came back.
type Response struct {
	Status int
	Body   []byte
	Header http.Header
}

// Decode reads the JSON body into out.
func (r Response) Decode(out any) error { return json.Unmarshal(r.Body, out) }

// Do sends one request, counted.
func (c *Client) Do(ctx context.Context, r Request) (Response, error) {
	var body io.Reader
	if r.Body != nil {
		switch b := r.Body.(type) {
		case []byte:
			body = bytes.NewReader(b)
		default:
			raw, err := json.Marshal(b)
			if err != nil {
				return Response{}, err
			}
			body = bytes.NewReader(raw)
		}
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, c.BaseURL+r.Path, body)
	if err != nil {
		return Response{}, err
	}
	if r.Body != nil {
		ct := "application/json"
		if _, csv := r.Body.([]byte); csv {
			ct = "text/csv"
		}
		req.Header.Set("Content-Type", ct)
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	if r.IdempotencyKey != "" {
		req.Header.Set("Idempotency-Key", r.IdempotencyKey)
	}
	select {
	case c.Slots <- struct{}{}:
	case <-ctx.Done():
		return Response{}, ctx.Err()
	}
	res, err := c.HTTP.Do(req)
	var raw []byte
	if err == nil {
		raw, err = io.ReadAll(res.Body)
		res.Body.Close()
	}
	<-c.Slots
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests++
	if err != nil {
		if ctx.Err() == nil {
			c.conn++
		}
		return Response{}, err
	}
	c.statuses[res.StatusCode]++
	return Response{Status: res.StatusCode, Body: raw, Header: res.Header}, nil
}

// Outcome is how an action ended, as its client saw it.
type Outcome struct {
	Response Response
	// Attempts counts the requests sent.
	Attempts int
	// Unanswered: an attempt before the last got no final answer (no
	// response, 5xx): it may have been applied all the same.
	Unanswered bool
}

// ErrDeadline: the action never got a final answer in time.
var ErrDeadline = errors.New("no final answer before the deadline")

// Retryable answers are retried: the outage kinds and 429, which the
// limits may give while a retry storm follows an outage.
func retryable(status int) bool {
	return status >= 500 || status == http.StatusTooManyRequests
}

// Act sends r until its answer is final (anything but no answer, 5xx or
// 429) or until deadline, with a backoff from 250 ms to 4 s (or the
// Retry-After the API asks for).
func (c *Client) Act(ctx context.Context, deadline time.Time, r Request) (Outcome, error) {
	var out Outcome
	wait := 250 * time.Millisecond
	for {
		res, err := c.Do(ctx, r)
		out.Attempts++
		if err == nil && !retryable(res.Status) {
			out.Response = res
			return out, nil
		}
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		out.Unanswered = true
		pause := wait
		if s, perr := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && perr == nil && s > 0 {
			pause = min(time.Duration(s)*time.Second, 10*time.Second)
		}
		if time.Now().Add(pause).After(deadline) {
			if err != nil {
				return out, fmt.Errorf("%w (last: %v)", ErrDeadline, err)
			}
			return out, fmt.Errorf("%w (last: %d %s)", ErrDeadline, res.Status, truncate(res.Body))
		}
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-time.After(pause):
		}
		wait = min(wait*2, 4*time.Second)
	}
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

// HTTPFigures are the counts of the run's requests.
type HTTPFigures struct {
	Requests   int
	Unanswered int
	// ByStatus counts answers per status code.
	ByStatus map[int]int
}

// Figures returns what was counted so far.
func (c *Client) Figures() HTTPFigures {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := HTTPFigures{Requests: c.requests, Unanswered: c.conn, ByStatus: map[int]int{}}
	for k, v := range c.statuses {
		f.ByStatus[k] = v
	}
	return f
}

// ServerErrors splits the 5xx answers: 503 (the API saying a dependency
// is away, retry later) and every other.
func (f HTTPFigures) ServerErrors() (unavailable int, other map[int]int) {
	other = map[int]int{}
	for status, n := range f.ByStatus {
		switch {
		case status == http.StatusServiceUnavailable:
			unavailable += n
		case status >= 500:
			other[status] += n
		}
	}
	return unavailable, other
}

// Statuses lists the status codes seen, in order.
func (f HTTPFigures) Statuses() []int {
	var out []int
	for s := range f.ByStatus {
		out = append(out, s)
	}
	sort.Ints(out)
	return out
}
