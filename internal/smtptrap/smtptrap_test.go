package smtptrap

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/procurations/procuration/internal/mail"
)

// A message sent, the server stopped (the next send fails) and started
// again on the same port: both messages that got through are kept, in order,
// with the time each was taken.
func TestKeepsMessagesAcrossARestart(t *testing.T) {
	s := &Server{}
	require.NoError(t, s.Start())
	defer s.Stop()
	sender, err := mail.NewSender(mail.Config{Host: "127.0.0.1", Port: s.Port, From: "test@example.fr", TLS: "none"})
	require.NoError(t, err)
	send := func(id string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return sender.Send(ctx, mail.Message{To: "marie@example.fr", Subject: "Procuration enregistrée", Text: "lien : https://x/é",
			HTML: "<p>x</p>", MessageID: id})
	}
	before := time.Now()
	require.NoError(t, send("ABC234.submission@procuration.example"))
	port := s.Port
	s.Shutdown(time.Second)
	require.Error(t, send("ABC234.police_receipt@procuration.example"), "nobody listens")
	require.NoError(t, s.Start())
	require.Equal(t, port, s.Port, "same port")
	require.NoError(t, send("ABC234.validated@procuration.example"))

	got := s.To("Marie@example.fr")
	require.Len(t, got, 2)
	require.Equal(t, "ABC234.submission@procuration.example", got[0].MessageID)
	require.Equal(t, "ABC234.validated@procuration.example", got[1].MessageID)
	require.Equal(t, "Procuration enregistrée", got[0].Subject)
	require.Contains(t, got[0].Text, "https://x/é")
	require.False(t, got[0].At.Before(before))
	require.False(t, got[1].At.Before(got[0].At))
}
