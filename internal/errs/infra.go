package errs

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// Unreachable recognises a dependency that is down, restarting or
// overloaded, whatever layer reports it: the caller may retry later.
func Unreachable(err error) bool {
	if err == nil {
		return false
	}
	var (
		unavailable *serviceerror.Unavailable
		exhausted   *serviceerror.ResourceExhausted
		deadline    *serviceerror.DeadlineExceeded
		connect     *pgconn.ConnectError
		pgErr       *pgconn.PgError
		netErr      net.Error
		opErr       *net.OpError
		waiting     *client.WorkflowUpdateServiceTimeoutOrCanceledError
	)
	switch {
	case errors.As(err, &unavailable), errors.As(err, &exhausted), errors.As(err, &deadline), errors.As(err, &connect),
		errors.As(err, &opErr), errors.As(err, &netErr), errors.As(err, &waiting):
		return true
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, net.ErrClosed), errors.Is(err, puddle.ErrClosedPool), pgconn.Timeout(err):
		return true
	case errors.As(err, &pgErr):
		// 08: connection exception; 57P01-03: admin or crash shutdown,
		// cannot connect now; 53: insufficient resources; 40001/40P01 are
		// retried by the callers that expect them, not here.
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P") || strings.HasPrefix(pgErr.Code, "53")
	}
	// pgx reports a connection lost mid-query as a plain error whose text
	// is all that is left of the cause.
	msg := err.Error()
	for _, s := range []string{"conn closed", "connection reset", "broken pipe", "unexpected EOF", "connection refused",
		"closed pool", "server closed the connection", "failed to connect", "timeout: context"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// Permanent recognises a database refusal that retrying cannot change:
// invalid data (class 22) or a constraint (class 23).
func Permanent(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "23"))
}
