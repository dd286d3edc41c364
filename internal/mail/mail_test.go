package mail

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/procurations/procuration/internal/dossier"
)

// Every email a dossier can send renders, in French, with its reference;
// reminders fire days later, so a broken template must fail here first.
func TestEveryTemplateRenders(t *testing.T) {
	at := time.Date(2027, 3, 1, 13, 5, 0, 0, time.UTC)
	d := Dossier{
		Reference: "K7M2QX", GrantorName: "Marie <Claire> DUPONT", ProxyName: "Jean MARTIN", CommuneName: "Paris", CommuneCode: "75056",
		Scope: "Élection présidentielle 2027, 1er tour le 11 avril 2027", FirstRound: time.Date(2027, 4, 11, 0, 0, 0, 0, time.UTC),
		CreatedAt: at, WaitingSince: at, Count: 2, Reason: "pièce expirée",
		Police: &Police{AgentName: "Paul LEMAIRE", Rank: "brigadier-chef", Unit: "Commissariat du 11e", At: at},
	}
	kinds := []dossier.MailKind{dossier.MailSubmission, dossier.MailPoliceReceipt, dossier.MailPoliceRefused, dossier.MailDigitalIdentity,
		dossier.MailValidated, dossier.MailInvalidated, dossier.MailCancelled, dossier.MailExpired, dossier.MailPoliceReminder,
		dossier.MailBeforeRoundReminder, dossier.MailTownHallReminder, dossier.MailHolderInformed, dossier.MailHolderCancelled}
	for _, kind := range kinds {
		subject, text, html, err := Render(string(kind), d)
		if err != nil {
			t.Errorf("%s: %v", kind, err)
			continue
		}
		if !strings.Contains(subject+text, "K7M2QX") || !strings.Contains(html, "K7M2QX") {
			t.Errorf("%s: no reference in %q", kind, subject)
		}
		if strings.Contains(text, "<no value>") || strings.Contains(html, "<no value>") {
			t.Errorf("%s: a field is missing", kind)
		}
		if strings.Contains(html, "<Claire>") {
			t.Errorf("%s: HTML not escaped", kind)
		}
	}
	_, text, _, _ := Render(string(dossier.MailPoliceReceipt), d)
	if !strings.Contains(text, "lundi 1er mars 2027 à 14 h 05") {
		t.Errorf("receipt date not in Paris time, French: %s", text)
	}
	_, text, _, _ = Render(string(dossier.MailTownHallReminder), d)
	if strings.Contains(text, "DUPONT") {
		t.Error("the town hall reminder names the grantor")
	}
}

// The holder's email says for whom, for when and where to vote, with the
// holder's own ID at the grantor's station, and the cap.
func TestHolderInformed(t *testing.T) {
	d := Dossier{Reference: "K7M2QX", GrantorName: "Marie Claire DUPONT", ProxyName: "Jean MARTIN", CommuneName: "Paris", CommuneCode: "75056",
		Scope: "Élection présidentielle 2027, 1er tour le 11 avril 2027", Station: "École Jules-Ferry, 12 rue Jules-Ferry (bureau n° 12)"}
	subject, text, html, err := Render(string(dossier.MailHolderInformed), d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Bonjour Jean MARTIN", "Marie Claire DUPONT vous a donné procuration", "1er tour le 11 avril 2027",
		"Où voter : École Jules-Ferry, 12 rue Jules-Ferry (bureau n° 12), Paris", "votre propre pièce d'identité", "celui de votre mandant",
		"au plus deux procurations, dont une seule établie en France", "La mairie de Paris a validé"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(subject, "en votre faveur") || !strings.Contains(html, "École Jules-Ferry") {
		t.Errorf("subject %q or HTML incomplete", subject)
	}
	d.Station, d.Automatic = "", true
	_, text, _, _ = Render(string(dossier.MailHolderInformed), d)
	if !strings.Contains(text, "au bureau de vote de votre mandant, à Paris") || !strings.Contains(text, "répertoire électoral unique") {
		t.Errorf("without a known station: %s", text)
	}
}

// The holder told of a procuration is told of its end: that they no
// longer go and vote, nor hold it against the cap.
func TestHolderCancelled(t *testing.T) {
	d := Dossier{Reference: "K7M2QX", GrantorName: "Marie Claire DUPONT", ProxyName: "Jean MARTIN", CommuneName: "Paris", CommuneCode: "75056",
		Scope: "Élection présidentielle 2027, 1er tour le 11 avril 2027"}
	subject, text, html, err := Render(string(dossier.MailHolderCancelled), d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Bonjour Jean MARTIN", "La procuration que Marie Claire DUPONT vous avait donnée", "1er tour le 11 avril 2027",
		"Vous n'avez plus à vous présenter en son nom au bureau de vote de Paris", "article L73"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(subject, "résiliée") || !strings.Contains(html, "Vous n'avez plus à vous présenter en son nom") {
		t.Errorf("subject %q or HTML incomplete", subject)
	}
}

func TestEveryMatchTemplateRenders(t *testing.T) {
	at := time.Date(2027, 3, 1, 13, 5, 0, 0, time.UTC)
	for _, volunteer := range []bool{false, true} {
		d := MatchMail{Name: "Alice MOREAU", Campaign: "Plan Procu", Volunteer: volunteer, OtherFirstName: "Bruno", OtherCommune: "Paris",
			Proximity: "même bureau de vote", Rounds: "Élection présidentielle 2027, 1er tour le 11 avril 2027", Deadline: at,
			AcceptLink: "http://x/accept", DeclineLink: "http://x/decline", Reason: "l'autre personne a décliné la proposition",
			Count: 2, Reference: "K7M2QX", Contact: &Contact{Name: "Bruno LAMBERT", Email: "bruno@example.fr", Phone: "0600000000"}}
		for _, kind := range []string{"match_offer", "match_answer_reminder", "match_contacts", "match_link_reminder", "match_ended", "match_completed"} {
			subject, text, html, err := Render(kind, d)
			if err != nil {
				t.Errorf("%s: %v", kind, err)
				continue
			}
			if !strings.Contains(subject, "Plan Procu") || strings.Contains(text+html, "<no value>") {
				t.Errorf("%s: %q", kind, subject)
			}
		}
		_, offer, _, _ := Render("match_offer", d)
		if strings.Contains(offer, "0600000000") || strings.Contains(offer, "LAMBERT") {
			t.Error("an offer discloses contact details")
		}
	}
}

// The notice says plainly that no volunteer was found, for which round,
// and the other ways; in the campaign's colours, not the State's.
func TestUnmatchedNoticeRenders(t *testing.T) {
	d := Unmatched{Name: "Alice <Marie> MOREAU", Campaign: "Plan Procu", Round: "1er tour", Date: time.Date(2027, 4, 11, 0, 0, 0, 0, time.UTC),
		OfficialURL: "https://www.maprocuration.gouv.fr", Color: "#e4002b"}
	subject, text, html, err := Render("unmatched_notice", d)
	if err != nil {
		t.Fatal(err)
	}
	if subject != "Plan Procu : pas encore de volontaire pour le 1er tour du 11 avril 2027" {
		t.Errorf("subject %q", subject)
	}
	for _, want := range []string{"nous n'avons pas encore trouvé de volontaire près de votre bureau de vote pour le 1er tour du 11 avril 2027",
		"https://www.maprocuration.gouv.fr", "permanences locales", "mairie", "Votre inscription reste active"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
		if want != "https://www.maprocuration.gouv.fr" && !strings.Contains(tags.ReplaceAllString(html, ""), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if !strings.Contains(html, `href="https://www.maprocuration.gouv.fr"`) || !strings.Contains(html, "#e4002b") {
		t.Error("HTML without the official link or the campaign's colour")
	}
	if strings.Contains(html, "<Marie>") || strings.Contains(text+html, "<no value>") || strings.Contains(html, "#000091") {
		t.Error("HTML not escaped, a field missing, or the State's colours")
	}
}

var tags = regexp.MustCompile(`<[^>]+>`)

func TestPDF(t *testing.T) {
	pdf := string(PDF([]Line{{Text: "Procuration (Cerfa n° 14952)", Bold: true}, {Text: "Prénoms : Éloïse"}}))
	if !strings.HasPrefix(pdf, "%PDF-1.4") || !strings.HasSuffix(pdf, "%%EOF\n") {
		t.Fatal("not a PDF")
	}
	if !strings.Contains(pdf, "\\(Cerfa n\xb0 14952\\)") || !strings.Contains(pdf, "Pr\xe9noms : \xc9lo\xefse") {
		t.Error("text not escaped or not in WinAnsi")
	}
}
