package errs

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"
	"go.temporal.io/api/serviceerror"
)

func TestUnreachableRecognisesEveryConnectionFailure(t *testing.T) {
	for name, err := range map[string]error{
		"unexpected EOF":     fmt.Errorf("query: %w", io.ErrUnexpectedEOF),
		"EOF":                io.EOF,
		"reset":              &net.OpError{Op: "read", Err: syscall.ECONNRESET},
		"refused":            fmt.Errorf("dial: %w", syscall.ECONNREFUSED),
		"pool closed":        puddle.ErrClosedPool,
		"admin shutdown":     &pgconn.PgError{Code: "57P01"},
		"cannot connect now": &pgconn.PgError{Code: "57P03"},
		"connection failure": &pgconn.PgError{Code: "08006"},
		"conn closed":        errors.New("conn closed"),
		"temporal":           serviceerror.NewUnavailable("frontend down"),
	} {
		if !Unreachable(err) {
			t.Errorf("%s: not recognised as unavailability", name)
		}
	}
	for name, err := range map[string]error{
		"unique violation": &pgconn.PgError{Code: "23505"},
		"bad data":         &pgconn.PgError{Code: "22021"},
		"a bug":            errors.New("index out of range"),
	} {
		if Unreachable(err) {
			t.Errorf("%s: taken for unavailability", name)
		}
	}
	if !Permanent(&pgconn.PgError{Code: "22021"}) || Permanent(&pgconn.PgError{Code: "57P01"}) {
		t.Error("Permanent: data errors are, shutdowns are not")
	}
}
