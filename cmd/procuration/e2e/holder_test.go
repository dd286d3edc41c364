package e2e

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/internal/store"
)

// validate takes a dossier through the police and its town hall.
func (s *stack) validate(ref, townHall string) {
	s.t.Helper()
	r := s.do("POST", "/v1/procurations/"+ref+"/police-verification", s.police("opj-1"),
		map[string]any{"outcome": "verified", "id_document": map[string]any{"kind": "cni", "number": "18AB12345"}})
	require.Equal(s.t, 200, r.Status, r.Raw)
	r = s.do("POST", "/v1/procurations/"+ref+"/town-hall-decision", townHall, map[string]any{"outcome": "validated"})
	require.Equal(s.t, 200, r.Status, r.Raw)
	require.Equal(s.t, "validated", r.Body["status"])
}

// The holder of a validated procuration is told by email, once, when the
// grantor gave an address with consent: for whom, for which rounds, where
// to vote; told again, once, when it is cancelled. Without an address
// nobody but the grantor gets an email, and that the holder's were not
// sent is on record.
func TestHolderToldOnceWithConsentOnly(t *testing.T) {
	s := newStack(t)
	s.loadVoters()
	ctx := context.Background()
	const holder = "jean.martin@example.fr"

	// Marie gives her vote to Jean and asks that he be told.
	informed := s.do("POST", "/v1/procurations", s.grantor("fc-marie", marie), map[string]any{
		"grantor":  map[string]any{"nne": marie, "commune_code": "75056"},
		"proxy":    map[string]any{"nne": jean, "birth_date": "1979-11-03", "email": " " + holder + " ", "email_consent": true},
		"validity": map[string]any{"election_id": "presidentielle-2027", "rounds": []int{1, 2}},
	})
	require.Equal(t, 201, informed.Status, informed.Raw)
	ref := informed.Body["reference"].(string)
	p, err := s.app.Store.Procuration(ctx, ref)
	require.NoError(t, err)
	require.Equal(t, holder, p.ProxyEmail, "kept, trimmed, in PostgreSQL")
	require.NotNil(t, p.ProxyEmailConsentAt)

	// Luc gives his to Camille and gives no address.
	silent := s.create(s.grantor("fc-luc", luc), luc, "69123", camille, "2001-09-15")
	require.Equal(t, 201, silent.Status, silent.Raw)
	quiet := silent.Body["reference"].(string)

	s.waitMails("fc-marie@example.fr", 1)
	require.Empty(t, s.smtp.To(holder), "nothing before the validation")
	s.validate(ref, s.townHall("mairie-paris", "75056"))
	s.validate(quiet, s.townHall("mairie-lyon", "69123"))

	mails := s.waitMails(holder, 1)
	s.waitMails("fc-luc@example.fr", 3)
	s.waitIdle(dossier.WorkflowID(ref))
	s.waitIdle(dossier.WorkflowID(quiet))
	mails = s.smtp.To(holder)
	require.Len(t, mails, 1, "exactly one email to the holder")
	m := mails[0]
	require.Contains(t, m.Subject, ref)
	require.Contains(t, m.Subject, "en votre faveur")
	grantor, err := s.app.Store.Voter(ctx, marie)
	require.NoError(t, err)
	station := store.PollingStation{Code: grantor.PollingStation, Name: grantor.StationName, Address: grantor.StationAddress}
	require.NotEmpty(t, station.Name, "the demo stations have names")
	for _, want := range []string{
		"Bonjour Jean MARTIN", "Marie Claire DUPONT vous a donné procuration", "La mairie de Paris a validé",
		"Élection présidentielle 2027, 1er tour le 11 avril 2027 et 2d tour le 25 avril 2027",
		"Où voter : " + station.Label() + ", Paris", "celui de votre mandant et non le vôtre", "votre propre pièce d'identité",
		"au plus deux procurations, dont une seule établie en France",
	} {
		assert.Contains(t, m.Text, want)
	}
	assert.Contains(t, m.HTML, station.Name)
	assert.NotContains(t, m.Text+m.HTML, "/mes-procurations/", "no link to the grantor's portal")
	assert.NotContains(t, m.Text, marie, "nor the grantor's voter number")

	// On record: sent to the holder once; Luc's holder's not sent, and why.
	sent, err := s.app.Store.SentMails(ctx, ref)
	require.NoError(t, err)
	kinds := map[string]store.SentMail{}
	for _, m := range sent {
		kinds[m.Kind] = m
	}
	require.Equal(t, holder, kinds["holder_informed"].Recipient)
	require.NotNil(t, kinds["holder_informed"].SentAt)
	sent, err = s.app.Store.SentMails(ctx, quiet)
	require.NoError(t, err)
	var skipped *store.SentMail
	for i := range sent {
		if sent[i].Kind == "holder_informed" {
			skipped = &sent[i]
		}
	}
	require.NotNil(t, skipped, "the holder's email is asked for and recorded")
	require.Nil(t, skipped.SentAt)
	require.NotNil(t, skipped.Skipped)
	require.Empty(t, skipped.Recipient)
	for _, m := range s.smtp.Received() {
		require.Subset(t, []string{"fc-marie@example.fr", "fc-luc@example.fr", holder}, m.To, "an email to someone else: %s", m.Subject)
	}
	require.Len(t, s.smtp.To("fc-luc@example.fr"), 3, "Luc's own three emails, nothing more")

	// Both cancel: Jean, told of the procuration, is told of its end.
	require.Equal(t, 200, s.do("POST", "/v1/procurations/"+ref+"/cancel", s.grantor("fc-marie", marie), nil).Status)
	require.Equal(t, 200, s.do("POST", "/v1/procurations/"+quiet+"/cancel", s.grantor("fc-luc", luc), nil).Status)
	mails = s.waitMails(holder, 2)
	s.waitMails("fc-luc@example.fr", 4)
	s.waitIdle(dossier.WorkflowID(ref))
	s.waitIdle(dossier.WorkflowID(quiet))
	require.Len(t, s.smtp.To(holder), 2, "one email of the cancellation")
	ended := mails[1]
	require.Contains(t, ended.Subject, "résiliée")
	require.Contains(t, ended.Text, "La procuration que Marie Claire DUPONT vous avait donnée")
	require.Contains(t, ended.Text, "Vous n'avez plus à vous présenter en son nom")
	assert.NotContains(t, ended.Text+ended.HTML, "/mes-procurations/")
	sent, err = s.app.Store.SentMails(ctx, quiet)
	require.NoError(t, err)
	skipped = nil
	for i := range sent {
		if sent[i].Kind == "holder_cancelled" {
			skipped = &sent[i]
		}
	}
	require.NotNil(t, skipped, "asked for, not sent: Camille was never told")
	require.Nil(t, skipped.SentAt)
	for _, m := range s.smtp.Received() {
		require.Subset(t, []string{"fc-marie@example.fr", "fc-luc@example.fr", holder}, m.To, "an email to someone else: %s", m.Subject)
	}
}
