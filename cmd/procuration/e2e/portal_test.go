package e2e

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/procurations/procuration/cmd/procuration/app"
	"github.com/procurations/procuration/internal/browsertest"
)

// The portals, driven in Chromium by the people who use them: a grantor
// signed in with the development FranceConnect, an officer and town hall
// agents with the development ProConnect, their rights from the demo
// data. Every page they see is screenshot and checked by axe-core.

func newPortals(t *testing.T, flags ...string) (*stack, *browsertest.Browser) {
	s := newStack(t, flags...)
	s.loadVoters()
	_, err := app.SeedDemoRights(context.Background(), s.app.Store)
	require.NoError(t, err)
	return s, browsertest.Start(t)
}

// signIn goes through a development provider's page as one of its people.
func signIn(p *browsertest.Page, provider, person string) {
	p.Click("S'identifier avec " + provider).Has("fournisseur de développement")
	p.Click(person)
}

var referenceRE = regexp.MustCompile(`Procuration ([A-Z0-9]{6})`)

// request files Marie DUPONT's request for Jean MARTIN, by his voter
// number, and returns its reference.
func requestAsMarie(t *testing.T, s *stack, marie *browsertest.Page) string {
	marie.Open(s.url + "/").Check("accueil")
	marie.Click("S'identifier avec FranceConnect").Check("franceconnect-developpement")
	marie.Click("Marie Claire DUPONT").Has("Demander une procuration", "Marie Claire DUPONT").Check("demande")
	marie.Fill("Votre numéro national d'électeur", "100000001").Fill("Votre commune d'inscription", "Paris").
		Fill("Son numéro national d'électeur", "100000002").Fill("Sa date de naissance", "1979-11-03")
	marie.Click("Envoyer ma demande").Expect(200).Has("Demande enregistrée", "Jean MARTIN").Check("demande-enregistree")
	m := referenceRE.FindStringSubmatch(marie.Text())
	require.NotNil(t, m, marie.Text())
	return m[1]
}

func TestPortalsThreeSteps(t *testing.T) {
	s, b := newPortals(t)
	// Marie's browser runs no script: the portal works without.
	marie := b.PersonWithoutJS("marie")
	ref := requestAsMarie(t, s, marie)

	paul := b.Person("paul")
	paul.Open(s.url + "/police").Expect(401).Has("Cet espace est réservé aux agents habilités").Check("police-connexion")
	signIn(paul, "ProConnect", "Paul LEMAIRE")
	paul.Has("Vérifier un dossier", "brigadier-chef, OPJ").Check("police-accueil")
	paul.Fill("Référence du dossier", ref).Click("Ouvrir le dossier").Expect(200).
		Has("Selon FranceConnect", "Selon la liste électorale", "DUPONT", "Marie Claire", "12 avril 1985", "Lieu de naissance\nParis (75056)").Check("police-dossier")
	paul.Select("Pièce d'identité présentée", "Passeport").Fill("Numéro de la pièce", "18AB12345")
	paul.Click("Identité vérifiée").Expect(200).Has("Identité vérifiée par Paul LEMAIRE", "transmis à sa mairie").Check("police-recu")

	ines := b.Person("ines")
	ines.Open(s.url + "/mairie")
	signIn(ines, "ProConnect", "Inès GARNIER")
	ines.Has("Dossiers de Paris", ref, "Marie Claire DUPONT", "en attente de décision de la mairie (1)").Check("mairie-file")
	ines.Click(ref).Has("inscrit(e) sur la liste électorale de Paris", "0 sur 1").Check("mairie-dossier")
	ines.Click("Valider la procuration").Expect(200).Has("Dossier " + ref + " : procuration validée").Check("mairie-apres-decision")

	marie.Open(s.url+"/mes-procurations/"+ref).Has("Identité vérifiée par Paul LEMAIRE", "Procuration validée par la mairie",
		"Prévenez Jean MARTIN").Check("suivi-validee")
	mails := s.waitMails("marie.dupont@example.fr", 3)
	assert.Contains(t, mails[len(mails)-1].Subject, "validée")

	ines.Open(s.url+"/mairie/liste-emargement?commune=75056&election=presidentielle-2027&tour=1").
		Has("Jean MARTIN", "Marie Claire DUPONT", "100000001", ", Paris (bureau n° 1)").Check("liste-emargement")

	// Jean holds a procuration: a second one, past the L73 cap, is refused
	// at validation and the page offers the invalidation instead.
	sophie := b.Person("sophie")
	sophie.Open(s.url + "/")
	sophie.Click("S'identifier avec FranceConnect").Click("Sophie BERNARD")
	sophie.Fill("Votre numéro national d'électeur", "100000003").Fill("Votre commune d'inscription", "Paris").
		Fill("Son numéro national d'électeur", "100000002").Fill("Sa date de naissance", "1979-11-03")
	sophie.Click("Envoyer ma demande").Expect(200)
	second := referenceRE.FindStringSubmatch(sophie.Text())[1]
	paul.Open(s.url+"/police").Fill("Référence du dossier", second).Click("Ouvrir le dossier").Fill("Numéro de la pièce", "18CD67890").
		Click("Identité vérifiée").Expect(200)
	ines.Open(s.url+"/mairie/dossier/"+second).Has("1 sur 1", "le plafond est atteint")
	ines.Click("Valider la procuration").Expect(409).Has("Validation impossible").Check("mairie-plafond")
	ines.Select("Motif d'invalidation", "Le mandataire détient déjà le nombre maximal de procurations (article L73 du code électoral)").
		Click("Invalider").Expect(200).Has("Dossier " + second + " : procuration invalidée")
	ines.Open(s.url+"/mairie").Has("en attente de décision de la mairie (0)", "invalidée (1)")
	s.countsAgree()
}

// The police counter works with the keyboard alone: the reference has the
// focus, Enter opens the dossier with the focus on the ID number, Enter
// verifies, and the receipt's button, focused, comes back for the next.
func TestPolicePortalKeyboardOnly(t *testing.T) {
	s, b := newPortals(t)
	ref := requestAsMarie(t, s, b.Person("marie"))
	paul := b.Person("paul")
	paul.Open(s.url + "/police")
	signIn(paul, "ProConnect", "Paul LEMAIRE")
	// Chromium applies autofocus once the page is rendered, a moment after
	// it loaded at the end of the sign-in's redirects.
	assert.Eventually(t, func() bool { return strings.Contains(paul.Focused(), "input#reference") }, 5*time.Second, 50*time.Millisecond,
		"focus on the reference: %s", paul.Focused())
	for _, c := range ref {
		paul.Press(string(c))
	}
	paul.PressAndLoad(kb.Enter).Expect(200).Has("Dossier " + ref)
	assert.Contains(t, paul.Focused(), "input#id_document-number")
	for _, c := range "18AB12345" {
		paul.Press(string(c))
	}
	paul.PressAndLoad(kb.Enter).Expect(200).Has("Identité vérifiée par Paul LEMAIRE")
	assert.Contains(t, paul.Focused(), "Vérifier un autre dossier")
	paul.PressAndLoad(kb.Enter).Has("Vérifier un dossier")
	assert.Contains(t, paul.Focused(), "input#reference")
}

// A request with mistakes comes back with every field's message, linked
// from a summary at the top, and nothing filed.
func TestPortalRequestFieldErrors(t *testing.T) {
	s, b := newPortals(t)
	marie := b.Person("marie")
	marie.Open(s.url + "/")
	marie.Click("S'identifier avec FranceConnect").Click("Marie Claire DUPONT")
	marie.Fill("Votre numéro national d'électeur", "12").Fill("Votre commune d'inscription", "Atlantide").
		Fill("Son adresse électronique", "jean.martin@example.fr")
	marie.Click("Envoyer ma demande").Expect(422).Has("champs à corriger", "Information du mandataire : cochez la case").Check("demande-erreurs")
	summary := browsertest.Eval[[]string](marie, `[...document.querySelectorAll('#erreurs a')].map(a => a.getAttribute('href'))`)
	assert.Contains(t, summary, "#grantor-nne")
	assert.Contains(t, summary, "#grantor-commune_code")
	assert.Contains(t, summary, "#proxy-email_consent", "an address without consent")
	assert.Equal(t, "jean.martin@example.fr", browsertest.Eval[string](marie, `document.getElementById('proxy-email').value`), "kept as typed")
	assert.Equal(t, "true", browsertest.Eval[string](marie, `document.getElementById('grantor-nne').getAttribute('aria-invalid')`))
	assert.True(t, strings.HasPrefix(browsertest.Eval[string](marie, `document.title`), "Erreur"))
	marie.Open(s.url + "/mes-procurations").Has("Vous n'avez pas encore demandé de procuration")

	// The voter number, found from the identity the account gave.
	marie.Open(s.url + "/demande").Click("Je ne connais pas mon numéro").Check("numero-electeur")
	assert.Equal(t, "DUPONT", browsertest.Eval[string](marie, `document.getElementById('family_name').value`))
	marie.Fill("Commune d'inscription", "Paris").Click("Rechercher").Expect(200).Has("Numéro d'électeur : 100000001", "bureau de vote : ", ", Paris (bureau n° 1)").Lacks("75056_0001").
		Check("numero-electeur-trouve")
	marie.Click("Demander une procuration avec ce numéro")
	assert.Equal(t, "100000001", browsertest.Eval[string](marie, `document.getElementById('grantor-nne').value`))

	// With the consent ticked, the holder will be told; the dossier says so.
	marie.Fill("Votre commune d'inscription", "Paris").Fill("Son numéro national d'électeur", "100000002").Fill("Sa date de naissance", "1979-11-03").
		Fill("Son adresse électronique", "jean.martin@example.fr").Choose("J'accepte que mon mandataire soit informé par e-mail")
	marie.Click("Envoyer ma demande").Expect(200).Has("Demande enregistrée", "par courriel à jean.martin@example.fr").Check("demande-mandataire-informe")
}

// The police refuse one request, the town hall invalidates another: the
// grantor reads why, and may ask again.
func TestPortalRefusalAndInvalidation(t *testing.T) {
	s, b := newPortals(t)
	marie := b.Person("marie")
	first := requestAsMarie(t, s, marie)

	paul := b.Person("paul")
	paul.Open(s.url + "/police")
	signIn(paul, "ProConnect", "Paul LEMAIRE")
	paul.Fill("Référence du dossier", first).Click("Ouvrir le dossier")
	paul.Click("Refuser").Expect(422).Has("1 champ à corriger", "Motif du refus : motif obligatoire en cas de refus").Check("police-refus-sans-motif")
	// No document to show: a refusal needs no number.
	paul.Select("Pièce d'identité présentée", "Aucune pièce valable présentée (refus)").
		Fill("Motif du refus", "La personne présente n'est pas le mandant").Click("Refuser").Expect(200).
		Has("Vérification refusée par Paul LEMAIRE", "La personne présente n'est pas le mandant").Check("police-refus")
	marie.Open(s.url + "/mes-procurations/" + first).Has("La vérification d'identité a été refusée (La personne présente n'est pas le mandant)").
		Lacks("Résilier cette procuration").Check("suivi-refusee")
	marie.Open(s.url + "/mes-procurations/" + first + "/resilier").Expect(409).Has("Cette procuration est refusée par la police ou la gendarmerie : il n'y a plus rien à résilier").
		Lacks("Oui, résilier")

	marie.Click("Nouvelle demande").Fill("Votre numéro national d'électeur", "100000001").Fill("Votre commune d'inscription", "75056").
		Choose("Je connais ses nom, prénoms et commune").Fill("Son nom de naissance", "Martin").Fill("Ses prénoms", "Jean").
		Fill("Sa commune d'inscription", "Paris (75056)").Fill("Sa date de naissance", "1979-11-03")
	marie.Click("Envoyer ma demande").Expect(200).Has("Demande enregistrée", "Jean MARTIN")
	second := referenceRE.FindStringSubmatch(marie.Text())[1]
	paul.Open(s.url+"/police").Fill("Référence du dossier", second).Click("Ouvrir le dossier").Fill("Numéro de la pièce", "X1234").Click("Identité vérifiée")

	ines := b.Person("ines")
	ines.Open(s.url + "/mairie/dossier/" + second)
	signIn(ines, "ProConnect", "Inès GARNIER")
	ines.Click("Invalider").Expect(422).Has("à corriger").Check("mairie-invalidation-sans-motif")
	ines.Select("Motif d'invalidation", "Autre motif (à préciser)").Fill("Autre motif", "Le mandant a demandé l'annulation au guichet")
	ines.Click("Invalider").Expect(200).Has("Dossier " + second + " : procuration invalidée")
	marie.Open(s.url + "/mes-procurations/" + second).Has("La mairie a invalidé la procuration : Le mandant a demandé l'annulation au guichet").
		Check("suivi-invalidee")
	marie.Open(s.url+"/mes-procurations").Has(first, second).Check("mes-procurations")
}

// A validated procuration is cancelled from its page; its proxy may then
// hold another (the cap slot is free again).
func TestPortalCancellation(t *testing.T) {
	s, b := newPortals(t, "--town-hall-review=automatic")
	marie := b.Person("marie")
	ref := requestAsMarie(t, s, marie)
	paul := b.Person("paul")
	paul.Open(s.url + "/police")
	signIn(paul, "ProConnect", "Paul LEMAIRE")
	paul.Fill("Référence du dossier", ref).Click("Ouvrir le dossier").Fill("Numéro de la pièce", "X1234").Click("Identité vérifiée")

	ines := b.Person("ines")
	ines.Open(s.url + "/mairie")
	signIn(ines, "ProConnect", "Inès GARNIER")
	require.Eventually(t, func() bool {
		return strings.Contains(ines.Open(s.url+"/mairie/dossier/"+ref).Text(), "Décision automatique du répertoire électoral")
	}, 20*time.Second, 300*time.Millisecond)
	ines.Lacks("Valider la procuration").Check("mairie-revue-automatique")

	require.Eventually(t, func() bool {
		return strings.Contains(marie.Open(s.url+"/mes-procurations/"+ref).Text(), "par le contrôle automatique du répertoire électoral")
	}, 20*time.Second, 300*time.Millisecond)
	marie.Click("Résilier cette procuration").Has("Jean MARTIN ne pourra plus voter pour vous").Check("resiliation")
	marie.Click("Oui, résilier la procuration").Expect(200).Has("La procuration "+ref+" est résiliée", "Procuration résiliée").
		Lacks("Résilier cette procuration").Check("resiliee")
	pdf := marie.Fetch(s.url + "/mes-procurations/" + ref + "/recepisse.pdf")
	assert.Equal(t, 200, pdf.Status)
	assert.Equal(t, "application/pdf", pdf.ContentType)
	assert.True(t, strings.HasPrefix(pdf.Head, "%PDF-"), pdf.Head)

	sophie := b.Person("sophie")
	sophie.Open(s.url + "/")
	sophie.Click("S'identifier avec FranceConnect").Click("Sophie BERNARD")
	sophie.Fill("Votre numéro national d'électeur", "100000003").Fill("Votre commune d'inscription", "Paris").
		Fill("Son numéro national d'électeur", "100000002").Fill("Sa date de naissance", "1979-11-03")
	sophie.Click("Envoyer ma demande").Expect(200).Has("Demande enregistrée", "Jean MARTIN")
	s.countsAgree()
}

// France Identité (FranceConnect+, its tokens encrypted to the portal's
// key) stands for the visit to the police: the dossier goes straight to
// the town hall, here Lyon's.
func TestPortalFranceIdentite(t *testing.T) {
	s, b := newPortals(t)
	luc := b.Person("luc")
	luc.Open(s.url + "/")
	luc.Click("S'identifier avec France Identité").Has("FranceConnect+ (France Identité)").Check("franceconnect-plus")
	luc.Click("Luc PETIT").Has("viennent de votre compte France Identité", "21 janvier 1968")
	luc.Fill("Votre numéro national d'électeur", "100000004").Fill("Votre commune d'inscription", "Lyon").
		Fill("Son numéro national d'électeur", "100000005").Fill("Sa date de naissance", "2001-09-15")
	luc.Click("Envoyer ma demande").Expect(200).Has("Demande enregistrée", "Camille ROBERT").Lacks("Présentez-vous avec une pièce d'identité")
	ref := referenceRE.FindStringSubmatch(luc.Text())[1]
	luc.Has("Votre identité est certifiée par France Identité").Check("france-identite-enregistree")
	require.Eventually(t, func() bool {
		return strings.Contains(luc.Open(s.url+"/mes-procurations/"+ref).Text(), "Identité vérifiée par France Identité")
	}, 20*time.Second, 300*time.Millisecond)

	karim := b.Person("karim")
	karim.Open(s.url + "/mairie")
	signIn(karim, "ProConnect", "Karim BOYER")
	karim.Has("Dossiers de Lyon", ref).Click(ref).Has("Identité vérifiée par France Identité").Click("Valider la procuration").
		Has("Dossier " + ref + " : procuration validée")
}

// What the portals refuse: a form without its session's token, another
// grantor's dossier, another commune's, an agent with no right until
// support grants one, and from the moment it is revoked.
func TestPortalAbuse(t *testing.T) {
	s, b := newPortals(t)
	marie := b.Person("marie")
	ref := requestAsMarie(t, s, marie)

	t.Run("a form without its token changes nothing", func(t *testing.T) {
		marie.Open(s.url + "/mes-procurations/" + ref + "/resilier")
		browsertest.Eval[bool](marie, `(() => { document.querySelectorAll('input[name=csrf]').forEach(i => i.value = 'forged'); return true })()`)
		marie.Click("Oui, résilier la procuration").Expect(403).Has("Ce formulaire a expiré ou ne vient pas de ce site").Check("csrf-refuse")
		marie.Open(s.url + "/mes-procurations/" + ref).Has("Résilier cette procuration")
	})

	t.Run("another grantor sees nothing of the dossier", func(t *testing.T) {
		sophie := b.Person("sophie")
		sophie.Open(s.url + "/")
		sophie.Click("S'identifier avec FranceConnect").Click("Sophie BERNARD")
		for _, path := range []string{"/mes-procurations/" + ref, "/mes-procurations/" + ref + "/resilier", "/mes-procurations/" + ref + "/etat"} {
			sophie.Open(s.url+path).Expect(404).Lacks("DUPONT", "MARTIN")
		}
		sophie.Check("dossier-d-un-autre")
		sophie.Open(s.url + "/mes-procurations").Lacks(ref)
		sophie.Open(s.url + "/police").Expect(401).Has("réservé aux agents habilités")
	})

	t.Run("another commune's town hall sees nothing", func(t *testing.T) {
		karim := b.Person("karim")
		karim.Open(s.url + "/mairie")
		signIn(karim, "ProConnect", "Karim BOYER")
		karim.Open(s.url + "/mairie/dossier/" + ref).Expect(404).Lacks("DUPONT")
		karim.Open(s.url + "/mairie?q=DUPONT").Has("Aucun dossier de vos communes ne correspond")
		karim.Open(s.url + "/police").Expect(403)
	})

	t.Run("an agent gets in when support grants a right, and out when it is revoked", func(t *testing.T) {
		nadia := b.Person("nadia")
		nadia.Open(s.url + "/mairie")
		signIn(nadia, "ProConnect", "Nadia LEFEBVRE")
		nadia.Expect(403).Has("aucun droit ne vous est attribué", "nadia.lefebvre@paris.fr").Check("sans-droit")

		sarah := b.Person("sarah")
		sarah.Open(s.url + "/support/droits")
		signIn(sarah, "ProConnect", "Sarah ROUX")
		sarah.Has("Droits des agents", "paul.lemaire@interieur.gouv.fr").Check("support-droits")
		sarah.Fill("Adresse électronique professionnelle de l'agent", "nadia.lefebvre@paris.fr").Select("Rôle", "Agent de mairie").
			Fill("Communes (mairie)", "75056").Click("Attribuer").Expect(200).Has("nadia.lefebvre@paris.fr")

		sarah.Fill("Adresse électronique professionnelle de l'agent", "agent.nouveau@gendarmerie.interieur.gouv.fr").
			Select("Rôle", "Officier ou agent de police judiciaire (police, gendarmerie)").Fill("Unité (police, gendarmerie)", "Brigade de Rambouillet").
			Fill("Grade (police, gendarmerie)", "Adjudant, OPJ").Click("Attribuer").Expect(200).Has("agent.nouveau@gendarmerie.interieur.gouv.fr", "Brigade de Rambouillet")

		nadia.Open(s.url+"/mairie?q="+ref).Expect(200).Has("Dossiers de Paris", ref)
		sarah.Click("Retirer le droit de nadia.lefebvre@paris.fr").Expect(200).Lacks("nadia.lefebvre@paris.fr")
		nadia.Open(s.url + "/mairie").Expect(403)
		nadia.Open(s.url + "/mairie/dossier/" + ref).Expect(403).Lacks("DUPONT")
	})

	t.Run("a town hall administrator invites for its own communes only", func(t *testing.T) {
		ines := b.Person("ines")
		ines.Open(s.url + "/support/droits")
		signIn(ines, "ProConnect", "Inès GARNIER")
		ines.Fill("Adresse électronique professionnelle de l'agent", "agent@mairie-lyon.fr").Fill("Communes (mairie)", "69123").
			Click("Attribuer").Expect(422).Has("commune que vous n'administrez pas").Check("admin-mairie-refus")
		ines.Open(s.url + "/support/droits").Lacks("agent@mairie-lyon.fr")
	})

	t.Run("signed out, the dossier is closed", func(t *testing.T) {
		marie.Open(s.url + "/mes-procurations").Click("Se déconnecter").Has("Vous êtes déconnecté(e)").Check("deconnecte")
		marie.Open(s.url + "/mes-procurations/" + ref).Expect(401).Lacks("MARTIN")
	})
}

// Pages that are not there, and the router's own refusals, answer as
// pages in French to a browser.
func TestPortalProblemPages(t *testing.T) {
	s, b := newPortals(t)
	p := b.Person("visiteur")
	p.Open(s.url + "/nulle-part").Expect(404).Has("Cette page n'existe pas").Check("page-introuvable")
	p.Open(s.url + "/accessibilite").Expect(200).Has("partiellement conformes").Check("accessibilite")
	p.Open(s.url + "/mentions-legales").Expect(200).Check("mentions-legales")
	p.Open(s.url + "/donnees-personnelles").Expect(200).Has("un seul cookie").Check("donnees-personnelles")
	p.Open(s.url+"/mes-procurations").Expect(401).Has("Identifiez-vous", "S'identifier avec FranceConnect").Check("connexion-mandant")
}
