package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/browsertest"
	"github.com/procurations/procuration/internal/match"
)

var (
	siteConfirmLink = regexp.MustCompile(`http://\S+/c/planprocu-2027/confirmer/\S+\?token=\S+`)
	siteOfferLink   = regexp.MustCompile(`http://\S+/c/planprocu-2027/offre/\S+\?token=\S+&outcome=accepted`)
	siteMatchLink   = regexp.MustCompile(`http://\S+/c/planprocu-2027/ma-mise-en-relation/\S+\?token=\S+`)
)

// signUpOnSite fills a door's form as a person would, then opens the link
// of the confirmation email.
func signUpOnSite(t *testing.T, s *stack, p *browsertest.Page, door, given, family, birth, email, shot string) {
	t.Helper()
	p.Open(s.url+"/c/planprocu-2027/").Has("Plan Procu 2027", "J'ai besoin d'une procuration", "Je peux porter une procuration").
		Lacks("République", "Marianne").Check(shot + "-accueil")
	p.Click(door).Check(shot + "-formulaire")
	p.Fill("Prénoms", given).Fill("Nom de naissance", family).Fill("Date de naissance", birth).
		Fill("Commune où vous êtes inscrit(e)", "Paris").Fill("Adresse électronique", email).
		Choose("J'accepte que Plan Procu 2027")
	p.Click("M'inscrire")
	require.Contains(t, p.Text(), "Vérifiez votre messagerie", p.Text())
	p.Expect(200).Check(shot + "-envoyee")
	mails := s.waitMails(email, 1)
	assert.Contains(t, mails[0].Subject, "Plan Procu 2027")
	assert.NotContains(t, mails[0].HTML, "#000091", "a campaign's email does not wear the State's blue")
	link := siteConfirmLink.FindString(mails[0].Text)
	require.NotEmpty(t, link, mails[0].Text)
	p.Open(link).Has("Confirmer mon inscription à Plan Procu 2027").Check(shot + "-confirmer")
	p.Click("Confirmer mon inscription à Plan Procu 2027").Expect(200).Has("Inscription confirmée").Check(shot + "-confirmee")
}

func TestCampaignSiteFromSignupToCompletedMatch(t *testing.T) {
	// The match polls its dossier every 6 hours: it completes within
	// seconds only because the dossier's side tells it.
	s := newStack(t, "--match-dossier-check=6h")
	s.loadVoters()
	require.Equal(t, 201, s.do("POST", "/v1/campaigns", s.support(), map[string]any{"id": "planprocu-2027", "name": "Plan Procu 2027",
		"election_id": "presidentielle-2027", "sender": "Plan Procu <contact@planprocu.example>", "color": "#5a2d82",
		"tagline": "Votre vote compte"}).Status)
	b := browsertest.Start(t)

	// Marie needs a proxy (her browser runs no script); Jean volunteers.
	// Neither types a voter number: the register gives it, and the station.
	mariePage := b.PersonWithoutJS("marie")
	signUpOnSite(t, s, mariePage, "Trouver quelqu'un pour voter à ma place", "Marie Claire", "Dupont", "1985-04-12", "marie@example.fr", "marie")
	jeanPage := b.Person("jean")
	// A mistake first: the errors are next to the fields, the values kept.
	jeanPage.Open(s.url+"/c/planprocu-2027/inscription/mandataire").Fill("Prénoms", "Jean").Click("M'inscrire").Expect(422).
		Has("champs à corriger", "Nom de naissance", "le consentement est nécessaire").Check("jean-erreurs")
	assert.Equal(t, "Jean", browsertest.Eval[string](jeanPage, `document.getElementById('given_names').value`))
	// The summary lists the fields in the order of the page.
	assert.Equal(t, "#family_name #birth_date #commune_code #email #consent",
		browsertest.Eval[string](jeanPage, `Array.from(document.querySelectorAll('#erreurs a')).map(a => a.getAttribute('href')).join(' ')`))
	jeanPage.Choose("J'accepte que Plan Procu 2027")
	signUpOnSite(t, s, jeanPage, "Proposer de voter pour quelqu'un", "Jean", "MARTIN", "1979-11-03", "jean@example.fr", "jean")

	// On a phone, the site and the official portal fit the screen.
	phone := b.Person("telephone").OnPhone()
	phone.Open(s.url + "/c/planprocu-2027/").Expect(200).FitsWidth().Check("site-accueil")
	phone.Open(s.url + "/c/planprocu-2027/inscription/mandataire").Expect(200).FitsWidth().Check("site-inscription")
	phone.Click("M'inscrire").Expect(422).FitsWidth().Check("site-inscription-erreurs")
	phone.Open(s.url + "/").Expect(200).FitsWidth().Check("portail-accueil")

	// The back office runs the matching (no approval on this campaign).
	bo := s.token(auth.RoleBackOffice, "bo-1", map[string]any{"campaigns": []string{"planprocu-2027"}})
	run := s.do("POST", "/v1/campaigns/planprocu-2027/matching-runs", bo, map[string]any{"dry_run": false})
	require.Equal(t, 200, run.Status, run.Raw)

	// Both accept from their offer emails.
	for _, who := range []struct {
		p     *browsertest.Page
		email string
		other string
	}{{mariePage, "marie@example.fr", "Jean"}, {jeanPage, "jean@example.fr", "Marie"}} {
		mails := s.waitMails(who.email, 2)
		link := siteOfferLink.FindString(mails[1].Text)
		require.NotEmpty(t, link, mails[1].Text)
		who.p.Open(link).Has("Une mise en relation vous est proposée", who.other, "Paris", "même bureau de vote", "Répondez avant le").
			Check(strings.ToLower(who.other) + "-offre")
		who.p.Click("J'accepte la mise en relation avec " + who.other).Expect(200).Has("Réponse enregistrée")
	}

	// The contacts' email leads Marie to her match's page: Jean's details,
	// where he votes for her, the Cerfa, the official request, the reference.
	contacts := s.waitMails("marie@example.fr", 3)
	link := siteMatchLink.FindString(contacts[2].Text)
	require.NotEmpty(t, link, contacts[2].Text)
	mariePage.Open(link).Has("acceptée par les deux personnes", "Jean MARTIN", "jean@example.fr", "(bureau n° 1)",
		"Télécharger le formulaire Cerfa 14952").Check("marie-mise-en-relation")
	cerfa := mariePage.Fetch(link[:strings.Index(link, "?")] + "/cerfa.pdf" + link[strings.Index(link, "?"):])
	assert.Equal(t, 200, cerfa.Status)
	assert.Equal(t, "application/pdf", cerfa.ContentType)
	assert.True(t, strings.HasPrefix(cerfa.Head, "%PDF"), cerfa.Head)

	// Marie asks officially, then enters her reference: a wrong one first.
	res := s.create(s.grantor("fc-marie", marie), marie, "75056", jean, "1979-11-03")
	require.Equal(t, 201, res.Status, res.Raw)
	ref := res.Body["reference"].(string)
	mariePage.Fill("Référence de votre demande", "ZZ").Click("Enregistrer la référence").Expect(422).Has("champ à corriger").Check("marie-reference-erreur")
	mariePage.Fill("Référence de votre demande", ref).Click("Enregistrer la référence").Expect(200).Has("Référence enregistrée", "liée à une demande de procuration").
		Check("marie-reference")

	// The official flow validates it; the match learns it at once and completes.
	require.Equal(t, 200, s.do("POST", "/v1/procurations/"+ref+"/police-verification", s.police("opj-1"),
		map[string]any{"outcome": "verified", "id_document": map[string]any{"kind": "cni", "number": "X1234"}}).Status)
	require.Equal(t, 200, s.do("POST", "/v1/procurations/"+ref+"/town-hall-decision", s.townHall("mairie-paris", "75056"),
		map[string]any{"outcome": "validated"}).Status)
	id := linkID(link)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		m, err := s.app.Store.Match(t.Context(), id)
		require.NoError(c, err)
		require.Equal(c, match.Completed, m.Status)
	}, 30*time.Second, 200*time.Millisecond)
	done := s.waitMails("jean@example.fr", 4)
	assert.Contains(t, done[3].Text, "(bureau n° 1)", "the volunteer is told where to vote")
	mariePage.Open(link).Has("aboutie", "Pensez à le lui confirmer").Check("marie-aboutie")

	// A link's token opens its own match only.
	other := s.do("GET", "/c/planprocu-2027/ma-mise-en-relation/m-0000000000000000?token="+linkToken(link), "", nil)
	assert.Equal(t, 404, other.Status)
	forged := s.do("GET", "/c/planprocu-2027/ma-mise-en-relation/"+id+"?token=forged", "", nil)
	assert.Equal(t, 403, forged.Status)
	// The site's failures wear the campaign's identity, not the State's.
	mariePage.Open(s.url+"/c/planprocu-2027/nulle-part").Expect(404).Has("Plan Procu 2027", "Action impossible").Lacks("République").
		Check("marie-introuvable")
}
