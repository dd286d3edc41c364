package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/procurations/procuration/cmd/procuration/app"
	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/browsertest"
	"github.com/procurations/procuration/internal/match"
	"github.com/procurations/procuration/internal/store"
)

// The campaign's back office, driven in Chromium by its team: Léa
// FONTAINE, administrator of the demo campaign, signed in with the
// development ProConnect. Every page is screenshot and checked by axe-core.

const demoCampaign = "planprocu-2027"

func newBackOffice(t *testing.T) (*stack, *browsertest.Browser) {
	s, b := newPortals(t)
	_, err := app.SeedDemoCampaign(context.Background(), s.app.Service)
	require.NoError(t, err)
	return s, b
}

var (
	givenNames  = []string{"Alice", "Bruno", "Chloé", "David", "Emma", "Farid", "Gabrielle", "Hélène", "Ismaël", "Julie"}
	familyNames = []string{"ARNAUD", "BLANC", "COLIN", "DUVAL", "ESNAULT", "FABRE", "GIRAUD", "HUET", "JOLY", "LAMBERT", "MOREL", "NOËL"}
	communes    = []string{"75056", "69123", "13055"}
)

// seedPool puts n requesters and n volunteers in the campaign's pool, as
// if they had confirmed their email, spread over three communes.
func seedPool(t *testing.T, s *stack, campaign string, n int) {
	ctx := context.Background()
	for i := range 2 * n {
		side, prefix := store.SideRequest, "r"
		if i%2 == 1 {
			side, prefix = store.SideVolunteer, "v"
		}
		k := i / 2
		given, family := givenNames[k%len(givenNames)], fmt.Sprintf("%s%s", familyNames[(k/len(givenNames))%len(familyNames)], strings.Repeat("E", k/120))
		if side == store.SideVolunteer {
			given, family = givenNames[(k+3)%len(givenNames)], family+"-VOL"
		}
		su, _, err := s.app.Store.SignUp(ctx, store.Signup{ID: fmt.Sprintf("s-%s%s%05d", campaign[:2], prefix, k), CampaignID: campaign, Side: side,
			GivenNames: given, FamilyName: family, BirthDate: time.Date(1950+k%50, time.Month(1+k%12), 1+k%28, 0, 0, 0, 0, time.UTC),
			Email: fmt.Sprintf("%s%d@exemple.fr", prefix, k), CommuneCode: communes[k%len(communes)], Rounds: []int16{1, 2}})
		require.NoError(t, err)
		_, err = s.app.Store.ConfirmSignup(ctx, su.ID)
		require.NoError(t, err)
	}
}

func countMatches(t *testing.T, s *stack, campaign string, status match.Status) int {
	var n int
	require.NoError(t, s.app.Pool.QueryRow(context.Background(), `SELECT count(*) FROM matches WHERE campaign_id = $1 AND ($2 = '' OR status = $2)`,
		campaign, string(status)).Scan(&n))
	return n
}

// waitJob reloads a bulk approval's page until it says it is done.
func waitJob(t *testing.T, p *browsertest.Page) {
	require.Eventually(t, func() bool {
		return strings.Contains(p.Open(p.URL()).Text(), "Traitement terminé")
	}, 60*time.Second, 500*time.Millisecond)
}

func TestBackOffice(t *testing.T) {
	s, b := newBackOffice(t)
	seedPool(t, s, demoCampaign, 120)
	base := s.url + "/bo/" + demoCampaign

	lea := b.PersonWithoutJS("lea")
	lea.Open(base + "/").Expect(401).Has("Connexion à l'espace équipe").Lacks("République").Check("bo-connexion")
	signIn(lea, "ProConnect", "Léa FONTAINE")
	lea.Expect(200).Has("Tableau de bord", "Plan Procu 2027", "Demandes en attente d'une personne\n120", "Volontaires disponibles\n120",
		"Léa FONTAINE (administrateur)").Check("bo-tableau-de-bord")

	// A dry run shows who would be matched with whom, and touches nothing.
	lea.Click("Mise en relation").Has("toutes les 60 minutes").Check("bo-mise-en-relation")
	lea.Click("Simuler la mise en relation").Expect(200).Has("Simulation : 120 propositions", "Rien n'a été enregistré", "même commune",
		"Alice ARNAUD").Check("bo-simulation")
	require.Zero(t, countMatches(t, s, demoCampaign, ""))
	lea.Click("Lancer la mise en relation pour de bon").Expect(200).Has("Mise en relation lancée : 120 propositions",
		"120 propositions attendent votre décision").Check("bo-propositions")
	require.Equal(t, 120, countMatches(t, s, demoCampaign, match.Proposed))

	// Two chosen proposals rejected, then every other one approved, in
	// the background, the page following the progress.
	lea.Choose("Alice ARNAUD").Choose("Bruno ARNAUD").Click("Rejeter la sélection").Expect(200).Has("Rejet de 2 propositions")
	waitJob(t, lea)
	lea.Has("2 sur 2", "2 rejetées, 0 en échec").Check("bo-rejet-termine")
	lea.Click("Revenir aux propositions").Has("118 propositions attendent")
	lea.Click("Approuver les 118 propositions").Expect(200).Has("Approbation de 118 propositions").Check("bo-traitement")
	waitJob(t, lea)
	lea.Has("118 sur 118", "118 approuvées, 0 en échec").Check("bo-traitement-termine")
	assert.Equal(t, 118, countMatches(t, s, demoCampaign, match.AwaitingAnswer))
	assert.Equal(t, 2, countMatches(t, s, demoCampaign, match.Rejected))
	lea.Open(base + "/propositions").Has("Aucune proposition n'attend votre approbation").Check("bo-propositions-vides")

	// The lists go page after page: seven at a time, the same matches in
	// the same order as in one page; the département narrows them.
	support := auth.Claims{Issuer: s.url, Subject: "support-pages", Role: auth.RoleSupport}
	whole, next, err := s.app.Service.MatchLines(context.Background(), support, demoCampaign, store.MatchFilter{Limit: 1000})
	require.NoError(t, err)
	require.Empty(t, next)
	var paged []string
	for cursor, pages := "", 0; ; pages++ {
		lines, next, err := s.app.Service.MatchLines(context.Background(), support, demoCampaign, store.MatchFilter{Limit: 7, Cursor: cursor})
		require.NoError(t, err)
		require.LessOrEqual(t, len(lines), 7)
		for _, l := range lines {
			paged = append(paged, l.ID)
		}
		if next == "" {
			break
		}
		cursor = next
		require.Less(t, pages, 100)
	}
	require.Len(t, paged, len(whole))
	for i, l := range whole {
		require.Equal(t, l.ID, paged[i])
	}
	inMarseille, _, err := s.app.Service.MatchLines(context.Background(), support, demoCampaign, store.MatchFilter{Limit: 1000, Departement: "13"})
	require.NoError(t, err)
	require.NotEmpty(t, inMarseille)
	require.Less(t, len(inMarseille), len(whole))
	for _, l := range inMarseille {
		require.Equal(t, "13", l.Departement)
	}
	lea.Open(base + "/mises-en-relation?departement=13").Has("13 – Bouches-du-Rhône").Lacks("Paris (75)").Check("bo-mises-en-relation-13")

	// A match cancelled from its page.
	lea.Open(base + "/mises-en-relation?statut=awaiting_answer").Has("en attente des réponses").Check("bo-mises-en-relation")
	lea.Click("Chloé ARNAUD").Has("Demandeur", "Historique", "r2@exemple.fr").Check("bo-mise-en-relation-detail")
	lea.Click("Annuler la mise en relation").Expect(200).Has("Mise en relation annulée").Lacks("Annuler la mise en relation")
	assert.Equal(t, 1, countMatches(t, s, demoCampaign, match.Cancelled))

	// Search by name, in either order, or by email.
	lea.Click("Personnes").Check("bo-personnes")
	lea.Fill("Nom, prénom ou adresse électronique", "arnaud chloé").Click("Rechercher").Expect(200).
		Has("1 personne trouvée", "Chloé ARNAUD", "r2@exemple.fr", "annulée").Check("bo-recherche")
	// Accents and case do not matter: what people type without them finds them.
	lea.Fill("Nom, prénom ou adresse électronique", "CHLOE Arnaud").Click("Rechercher").
		Has("2 personnes trouvées", "Chloé ARNAUD", "Chloé ARNAUD-VOL")

	// Alice, whose proposal was rejected, waits: a volunteer by hand, the
	// nearest first, and the offers go at once.
	lea.Fill("Nom, prénom ou adresse électronique", "Alice ARNAUD").Click("Rechercher").Has("Proposer un volontaire")
	lea.Click("Proposer un volontaire").Expect(200).Has("Proposer un volontaire", "Alice ARNAUD", "même commune").Check("bo-proposer")
	lea.Click("Proposer la mise en relation").Expect(422).Has("1 champ à corriger").Check("bo-proposer-erreur")
	lea.Choose("David ARNAUD-VOL").Click("Proposer la mise en relation").Expect(200).
		Has("Mise en relation", "en attente des réponses", "Alice ARNAUD", "David ARNAUD-VOL").Check("bo-proposee")
	lea.Open(base + "/personnes")
	lea.Fill("Nom, prénom ou adresse électronique", "v7@exemple").Click("Rechercher").Has("1 personne trouvée", "volontaire")
	lea.Fill("Nom, prénom ou adresse électronique", "x").Click("Rechercher").Expect(422).Has("1 champ à corriger").Check("bo-recherche-erreur")

	// The export has every match, with the people's contacts.
	csv := lea.Fetch(base + "/mises-en-relation.csv")
	assert.Equal(t, 200, csv.Status)
	assert.Contains(t, csv.ContentType, "text/csv")
	assert.True(t, strings.HasPrefix(csv.Head, "id,statut,proximite,tours,demandeur,demandeur_courriel"), csv.Head)

	// Settings: zero minutes is on demand, and the schedule goes.
	lea.Click("Réglages").Check("bo-reglages")
	lea.Fill("Mise en relation automatique", "0").Fill("Délai de réponse", "36").Fill("Relances pour lier", "3, 1").
		Click("Enregistrer les réglages").Expect(200).Has("Réglages enregistrés")
	c, err := s.app.Store.Campaign(context.Background(), demoCampaign)
	require.NoError(t, err)
	assert.Zero(t, c.MatchingEvery)
	assert.Equal(t, 36*time.Hour, c.AnswerWindow)
	assert.Equal(t, []int32{1, 3}, c.LinkReminderDays)
	_, err = s.app.Temporal.ScheduleClient().GetHandle(context.Background(), "matching-"+demoCampaign).Describe(context.Background())
	assert.Error(t, err, "no schedule: on demand only")
	assert.Equal(t, "0", browsertest.Eval[string](lea, `document.getElementById('matching_every_minutes').value`))
	lea.Fill("Mise en relation automatique", "30").Click("Enregistrer les réglages").Has("Réglages enregistrés")
	desc, err := s.app.Temporal.ScheduleClient().GetHandle(context.Background(), "matching-"+demoCampaign).Describe(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 30*time.Minute, desc.Schedule.Spec.Intervals[0].Every)
	lea.Fill("Délai de réponse", "0").Click("Enregistrer les réglages").Expect(422).Has("1 champ à corriger", "entre 1 et 720 heures").
		Check("bo-reglages-erreur")

	// The API says the same of zero.
	created := s.do("POST", "/v1/campaigns", s.support(), map[string]any{"id": "zero-2027", "name": "Zéro", "election_id": "presidentielle-2027",
		"sender": "Z <z@zero.example>", "matching_every_minutes": 0})
	require.Equal(t, 201, created.Status, created.Raw)
	assert.EqualValues(t, 0, created.Body["matching_every_minutes"])

	// The team: an invitation, then its removal.
	lea.Click("Équipe").Has("lea.fontaine@planprocu.example").Check("bo-equipe")
	lea.Fill("Adresse électronique professionnelle", "tom.girard@planprocu.example").Click("Inviter").Expect(200).
		Has("tom.girard@planprocu.example fait partie de l'équipe", "pas encore connecté").Check("bo-equipe-invitation")
	lea.Click("Retirer l'accès de tom.girard@planprocu.example").Expect(200).Has("Accès retiré").Lacks("tom.girard@planprocu.example")

	lea.Open(base+"/").Has("Procurations liées", "Par département", "75", "69", "13").Check("bo-tableau-de-bord-rempli")
}

// What the back office refuses: an agent with no right, a team member of
// another campaign, a member who is not an administrator, a form without
// its session's token.
func TestBackOfficeAbuse(t *testing.T) {
	s, b := newBackOffice(t)
	seedPool(t, s, demoCampaign, 3)
	base := s.url + "/bo/" + demoCampaign
	lea := b.Person("lea")
	lea.Open(base + "/")
	signIn(lea, "ProConnect", "Léa FONTAINE")
	lea.Click("Mise en relation").Click("Simuler la mise en relation").Click("Lancer la mise en relation pour de bon").Expect(200)
	var matchID string
	require.NoError(t, s.app.Pool.QueryRow(context.Background(), `SELECT id FROM matches WHERE campaign_id = $1 LIMIT 1`, demoCampaign).Scan(&matchID))

	t.Run("an agent without a right sees the no-right page", func(t *testing.T) {
		nadia := b.Person("nadia")
		nadia.Open(base + "/")
		signIn(nadia, "ProConnect", "Nadia LEFEBVRE")
		nadia.Expect(403).Has("vous ne faites partie de l'équipe d'aucune campagne", "nadia.lefebvre@paris.fr").Check("bo-sans-droit")
		nadia.Open(base + "/mises-en-relation.csv").Expect(403).Lacks("r0@exemple.fr")
	})

	t.Run("another campaign's team sees nothing of this one", func(t *testing.T) {
		require.Equal(t, 201, s.do("POST", "/v1/campaigns", s.support(), map[string]any{"id": "voter-ensemble-2027", "name": "Voter ensemble",
			"election_id": "presidentielle-2027", "sender": "VE <contact@voterensemble.example>", "matching_every_minutes": 0}).Status)
		sarah := b.Person("sarah")
		sarah.Open(s.url + "/support/droits")
		signIn(sarah, "ProConnect", "Sarah ROUX")
		sarah.Fill("Adresse électronique professionnelle de l'agent", "hugo.mercier@voterensemble.example").
			Select("Rôle", "Équipe d'une campagne de mise en relation").Fill("Campagnes (équipe de campagne)", "nulle-part").
			Click("Attribuer").Expect(422).Has("campagne inconnue").Check("support-droit-campagne-inconnue")
		sarah.Fill("Adresse électronique professionnelle de l'agent", "hugo.mercier@voterensemble.example").
			Select("Rôle", "Équipe d'une campagne de mise en relation").Fill("Campagnes (équipe de campagne)", "voter-ensemble-2027").
			Choose("Administrateur").Click("Attribuer").Expect(200).Has("hugo.mercier@voterensemble.example", "voter-ensemble-2027",
			"(administrateur de la campagne)").Check("support-droit-campagne")

		hugo := b.Person("hugo")
		hugo.Open(s.url + "/bo/")
		signIn(hugo, "ProConnect", "Hugo MERCIER")
		hugo.Has("Tableau de bord", "Voter ensemble").Lacks("Plan Procu")
		for _, path := range []string{"/", "/propositions", "/mises-en-relation/" + matchID, "/personnes?q=arnaud", "/reglages", "/equipe"} {
			hugo.Open(base+path).Expect(403).Has("Vous ne travaillez pas pour cette campagne").Lacks("ARNAUD", "r0@exemple.fr")
		}
		hugo.Check("bo-autre-campagne")
		assert.Equal(t, 403, hugo.Fetch(base+"/mises-en-relation.csv").Status)
		// His own team's form, sent to this campaign: refused, nothing granted.
		hugo.Open(s.url+"/bo/voter-ensemble-2027/equipe").Fill("Adresse électronique professionnelle", "intrus@voterensemble.example")
		browsertest.Eval[bool](hugo, `(() => { document.querySelector('form.bo-panel').action = '/bo/`+demoCampaign+`/equipe'; return true })()`)
		hugo.Click("Inviter").Expect(403)
		rights, err := s.app.Store.Rights(context.Background(), store.RightFilter{Campaigns: []string{demoCampaign}})
		require.NoError(t, err)
		for _, r := range rights {
			assert.NotEqual(t, "intrus@voterensemble.example", r.Email)
		}
	})

	t.Run("a member who is not an administrator changes nothing of the campaign", func(t *testing.T) {
		lea.Open(base+"/equipe").Fill("Adresse électronique professionnelle", "nadia.lefebvre@paris.fr").Click("Inviter").Expect(200)
		nadia := b.Person("nadia")
		nadia.Open(base + "/")
		signIn(nadia, "ProConnect", "Nadia LEFEBVRE")
		nadia.Expect(200).Has("Tableau de bord").Lacks("Réglages")
		nadia.Open(base + "/reglages").Expect(403).Has("Seul un administrateur")
		nadia.Open(base + "/equipe").Expect(200).Has("Seuls les administrateurs").Lacks("Inviter")
		// Lea's own right, which a member may not remove.
		lea.Open(base + "/equipe")
		rights, err := s.app.Store.Rights(context.Background(), store.RightFilter{Campaigns: []string{demoCampaign}})
		require.NoError(t, err)
		var leaRight int64
		for _, r := range rights {
			if r.Email == "lea.fontaine@planprocu.example" {
				leaRight = r.ID
			}
		}
		require.NotZero(t, leaRight)
		nadia.Open(base + "/equipe")
		browsertest.Eval[bool](nadia, fmt.Sprintf(`(() => { const f = document.createElement('form'); f.method = 'post';
			f.action = '/bo/%s/equipe/%d/retirer'; const i = document.createElement('input'); i.type = 'hidden'; i.name = 'csrf';
			i.value = document.querySelector('input[name=csrf]').value; f.appendChild(i); const b = document.createElement('button');
			b.textContent = 'Forcer'; f.appendChild(b); document.body.appendChild(f); return true })()`, demoCampaign, leaRight))
		nadia.Click("Forcer").Expect(403).Has("Vous ne pouvez pas retirer ce droit")
		lea.Open(base + "/").Expect(200)
	})

	t.Run("a form without its token changes nothing", func(t *testing.T) {
		lea.Open(base+"/reglages").Fill("Mise en relation automatique", "15")
		browsertest.Eval[bool](lea, `(() => { document.querySelectorAll('input[name=csrf]').forEach(i => i.value = 'forged'); return true })()`)
		lea.Click("Enregistrer les réglages").Expect(403).Has("Ce formulaire a expiré ou ne vient pas de ce site").Lacks("République").
			Check("bo-csrf-refuse")
		c, err := s.app.Store.Campaign(context.Background(), demoCampaign)
		require.NoError(t, err)
		assert.Equal(t, time.Hour, c.MatchingEvery)
	})
}
