package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/db"
	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/internal/store"
	"github.com/procurations/procuration/internal/testenv"
)

// The dossier a page reads with its session is the one the page would read
// on its own, and only for a session it may be given to: its grantor's, or
// an agent holding a right; any other session gets nothing of it.
func TestDossierReadWithTheSession(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := pgxpool.New(ctx, testenv.Postgres(t))
	require.NoError(t, err)
	defer pool.Close()
	_, err = db.Migrate(ctx, pool)
	require.NoError(t, err)
	s := store.New(pool)

	require.NoError(t, s.LoadCommunes(ctx, []store.Commune{{Code: "75056", Name: "Paris", Departement: "75", Region: "11"}}))
	_, err = s.UpsertPollingStations(ctx, []store.PollingStation{{Code: "75056_0001", CommuneCode: "75056", Name: "École", Address: "1 rue de la Paix"}})
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO voters (nne, family_name, given_names, sex, birth_date, commune_code, polling_station) VALUES
		('100000001', 'DUPONT', 'Marie', 'F', '1985-04-12', '75056', '75056_0001'),
		('100000002', 'MARTIN', 'Jean', 'M', '1979-11-03', '75056', '75056_0001')`)
	require.NoError(t, err)
	alice := auth.Claims{Issuer: "https://fc.example", Subject: "alice"}
	now := time.Now().UTC().Truncate(time.Microsecond)
	today := now.Truncate(24 * time.Hour)
	const ref = "K7M2QX"
	_, _, err = s.CreateProcuration(ctx, store.Procuration{Reference: ref, Status: dossier.AwaitingPolice, GrantorSub: alice.Identity(),
		GrantorNNE: "100000001", GrantorGivenNames: "Marie", GrantorFamilyName: "DUPONT", GrantorCommuneCode: "75056",
		GrantorEmail: "marie@example.fr", ProxyNNE: "100000002", ProxyGivenNames: "Jean", ProxyFamilyName: "MARTIN",
		ProxyBirthDate: time.Date(1979, 11, 3, 0, 0, 0, 0, time.UTC), Rounds: []int16{}, ValidFrom: today, ValidUntil: today.AddDate(0, 6, 0), CreatedAt: now}, "", "")
	require.NoError(t, err)
	ok, reason, err := s.ReserveProxySlot(ctx, ref)
	require.NoError(t, err)
	require.True(t, ok, reason)

	officer := auth.Claims{Issuer: "https://pc.example", Subject: "opj"}
	identity := officer.Identity()
	_, err = s.GrantRight(ctx, store.Right{Identity: &identity, Email: "opj@example.gouv.fr", Role: auth.RolePolice, Unit: "Commissariat", Rank: "brigadier",
		Communes: []string{}, Campaigns: []string{},
		ValidFrom: today.AddDate(0, 0, -1), GrantedBy: "support"})
	require.NoError(t, err)
	sessions := map[string]auth.Claims{"alice": alice, "bob": {Issuer: alice.Issuer, Subject: "bob"}, "officer": officer,
		"no-right": {Issuer: officer.Issuer, Subject: "someone"}, "signed-out": {}}
	for id, who := range sessions {
		require.NoError(t, s.SaveSession(ctx, id, map[string]any{"who": who, "csrf": "x"}, now.Add(time.Hour)))
	}

	alone, err := s.Procuration(ctx, ref)
	require.NoError(t, err)
	examined, beside, err := s.Examine(ctx, ref)
	require.NoError(t, err)
	require.NotNil(t, beside.Grantor)
	require.Equal(t, 1, beside.HolderSlots)

	read := func(session, reference string, examine bool) *store.DossierRead {
		t.Helper()
		var data map[string]any
		d := &store.DossierRead{Reference: reference, Examine: examine}
		_, _, err := s.LoadSessionAndRights(ctx, session, &data, today, d)
		require.NoError(t, err)
		require.Equal(t, reference, d.Reference)
		if !d.Found {
			// Nothing of the dossier, not even in part.
			require.Equal(t, store.DossierRead{Reference: reference, Examine: examine}, *d)
		}
		return d
	}

	d := read("alice", ref, false)
	require.True(t, d.Found)
	require.Equal(t, alone, d.Procuration)
	require.True(t, d.Holds(ref, false))
	require.False(t, d.Holds(ref, true))

	d = read("officer", ref, true)
	require.True(t, d.Found)
	require.Equal(t, examined, d.Procuration)
	require.Equal(t, beside, d.Examination)
	require.True(t, d.Holds(ref, true))

	for _, c := range []struct {
		session string
		examine bool
	}{
		{"bob", false},        // another grantor
		{"officer", false},    // an agent, on a grantor's read
		{"alice", true},       // the grantor, on an agent's read
		{"no-right", true},    // an agent without a right
		{"signed-out", false}, // nobody signed in
		{"signed-out", true},
	} {
		d := read(c.session, ref, c.examine)
		require.False(t, d.Found, "%s (examine: %v) was given the dossier", c.session, c.examine)
		require.False(t, d.Holds(ref, c.examine))
	}
	require.False(t, read("alice", "AAAAAA", false).Found)

	// The session and the rights read as without a dossier.
	var data struct {
		Who auth.Claims `json:"who"`
	}
	_, rights, err := s.LoadSessionAndRights(ctx, "officer", &data, today, &store.DossierRead{Reference: ref, Examine: true})
	require.NoError(t, err)
	require.Equal(t, officer, data.Who)
	require.Len(t, rights, 1)
	_, _, err = s.LoadSessionAndRights(ctx, "expired-or-never", &data, today, &store.DossierRead{Reference: ref})
	require.ErrorIs(t, err, store.ErrNotFound)
}
