package testenv

import (
	"testing"

	"github.com/procurations/procuration/internal/smtptrap"
)

// Mail is a message the SMTP server received, decoded.
type Mail = smtptrap.Mail

// SMTP is a real SMTP server that keeps what it receives. It can be stopped
// and started again on the same port, as a mail relay going away would.
type SMTP struct {
	*smtptrap.Server
	tb testing.TB
}

// StartSMTP listens on a free port.
func StartSMTP(tb testing.TB) *SMTP {
	s := &SMTP{Server: &smtptrap.Server{Port: FreePort(tb)}, tb: tb}
	s.Start()
	tb.Cleanup(s.Stop)
	return s
}

// Start (again) listens on the server's port.
func (s *SMTP) Start() {
	if err := s.Server.Start(); err != nil {
		s.tb.Fatal(err)
	}
}
