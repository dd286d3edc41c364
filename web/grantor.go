package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/cerfa"
	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/internal/errs"
	"github.com/procurations/procuration/internal/french"
	"github.com/procurations/procuration/internal/service"
	"github.com/procurations/procuration/internal/store"
)

func (s *Server) registerGrantor(mux *http.ServeMux) {
	mux.Handle("GET /{$}", s.page(s.home))
	for path, p := range map[string]struct{ page, title string }{
		"/accessibilite":        {"accessibility", "Déclaration d'accessibilité"},
		"/mentions-legales":     {"legal", "Mentions légales"},
		"/donnees-personnelles": {"privacy", "Données personnelles et cookies"},
		"/deconnexion/fin":      {"signed_out", "Vous êtes déconnecté(e)"},
	} {
		mux.Handle("GET "+path, s.page(func(q *request) error {
			s.render(q, http.StatusOK, p.page, view{Title: p.title})
			return nil
		}))
	}
	mux.Handle("GET /numero-electeur", s.page(s.lookupForm))
	mux.Handle("POST /numero-electeur", s.page(s.lookup))
	mux.Handle("GET /demande", s.page(s.requestForm))
	mux.Handle("POST /demande", s.page(s.request))
	mux.Handle("GET /mes-procurations", s.page(s.myProcurations))
	mux.Handle("GET /mes-procurations/{ref}", s.dossierPage(ownDossier, s.myProcuration))
	mux.Handle("GET /mes-procurations/{ref}/etat", s.dossierPage(ownDossier, s.myProcurationState))
	mux.Handle("GET /mes-procurations/{ref}/resilier", s.page(s.cancelForm))
	mux.Handle("POST /mes-procurations/{ref}/resilier", s.page(s.cancel))
	mux.Handle("GET /mes-procurations/{ref}/recepisse.pdf", s.page(s.receipt))
}

type homeView struct {
	Elections []store.Election
	Providers []*Provider
}

func (s *Server) home(q *request) error {
	elections, err := s.svc.UpcomingElections(q.ctx())
	if err != nil {
		return err
	}
	s.render(q, http.StatusOK, "home", view{Title: "Donner procuration", Data: homeView{Elections: elections, Providers: s.Providers}})
	return nil
}

// lookupResult is "find my voter number"'s answer.
type lookupResult struct {
	Voter   *store.Voter
	Commune string
}

func (s *Server) lookupForm(q *request) error {
	if !q.requireGrantor() {
		return nil
	}
	f := newForm()
	who := q.session.Who
	f.Values["family_name"], f.Values["given_names"], f.Values["birth_date"] = who.FamilyName, who.GivenName, who.Birthdate
	s.render(q, http.StatusOK, "lookup", view{Title: "Trouver mon numéro d'électeur", Form: f, Data: lookupResult{}})
	return nil
}

func (s *Server) lookup(q *request) error {
	if !q.requireGrantor() {
		return nil
	}
	f := formOf(q.r, "family_name", "given_names", "birth_date", "commune_code")
	v, err := s.svc.LookupVoter(q.ctx(), q.session.Who, service.Lookup{FamilyName: f.Value("family_name"), GivenNames: f.Value("given_names"),
		BirthDate: f.Value("birth_date"), CommuneCode: f.Value("commune_code")}, service.Client(q.ctx()))
	if e, ok := errs.As(err); ok && e.Kind == errs.KindNotFound {
		f.add("family_name", e.Message)
		err = nil
	}
	if err = f.fromError(err, nil); err != nil {
		return err
	}
	res := lookupResult{}
	status := http.StatusUnprocessableEntity
	if len(f.Order) == 0 {
		res.Voter, res.Commune, status = &v, s.svc.CommuneName(q.ctx(), v.CommuneCode), http.StatusOK
	}
	s.render(q, status, "lookup", view{Title: "Trouver mon numéro d'électeur", Form: f, Data: res})
	return nil
}

// requestView is the request form's choices.
type requestView struct {
	Elections []store.Election
}

func (s *Server) requestForm(q *request) error {
	if !q.requireGrantor() {
		return nil
	}
	f := formOf(q.r, "grantor.nne", "grantor.commune_code")
	f.Values["proxy.by"], f.Values["validity.kind"] = "nne", "election"
	f.Many["validity.rounds"] = []string{"1", "2"}
	return s.renderRequest(q, http.StatusOK, f)
}

func (s *Server) renderRequest(q *request, status int, f form) error {
	elections, err := s.svc.UpcomingElections(q.ctx())
	if err != nil {
		return err
	}
	s.render(q, status, "request", view{Title: "Demander une procuration", Form: f, Data: requestView{Elections: elections}})
	return nil
}

// request files the form: the same use case as POST /v1/procurations,
// fields named as the API names them.
func (s *Server) request(q *request) error {
	if !q.requireGrantor() {
		return nil
	}
	f := formOf(q.r, "grantor.nne", "grantor.commune_code", "grantor.phone", "proxy.by", "proxy.nne", "proxy.family_name", "proxy.given_names",
		"proxy.commune_code", "proxy.birth_date", "proxy.email", "proxy.email_consent", "validity.kind", "validity.election_id", "validity.rounds",
		"validity.from", "validity.until")
	req := service.ProcurationRequest{GrantorNNE: f.Value("grantor.nne"), CommuneCode: f.Value("grantor.commune_code"), Phone: f.Value("grantor.phone"),
		ProxyBirthDate: f.Value("proxy.birth_date"), ProxyEmail: f.Value("proxy.email"), ProxyEmailConsent: f.Value("proxy.email_consent") == "oui"}
	// Without JavaScript both ways show: names typed and no number say
	// which was meant.
	if f.Value("proxy.by") != "name" && f.Value("proxy.nne") == "" && f.Value("proxy.family_name") != "" {
		f.Values["proxy.by"] = "name"
	}
	if f.Value("proxy.by") == "name" {
		req.ProxyFamilyName, req.ProxyGivenNames, req.ProxyCommune = f.Value("proxy.family_name"), f.Value("proxy.given_names"), f.Value("proxy.commune_code")
	} else {
		req.ProxyNNE = f.Value("proxy.nne")
	}
	if f.Value("validity.kind") == "period" {
		req.Validity = service.Validity{From: f.Value("validity.from"), Until: f.Value("validity.until")}
	} else {
		req.Validity = service.Validity{ElectionID: f.Value("validity.election_id")}
		for _, r := range f.Many["validity.rounds"] {
			var n int
			fmt.Sscan(r, &n)
			req.Validity.Rounds = append(req.Validity.Rounds, n)
		}
	}
	// A form sent twice (a double click, a reload) files one dossier.
	key := ""
	if once := q.r.PostFormValue("once"); once != "" {
		key = "form-" + once
	}
	p, err := s.svc.RequestProcuration(q.ctx(), q.session.Who, req, key)
	proxyField := "proxy.nne"
	if f.Value("proxy.by") == "name" {
		proxyField = "proxy.family_name"
	}
	if err = f.fromError(err, map[string]string{"proxy": proxyField, "validity": "validity.kind"}); err != nil {
		if e, ok := errs.As(err); ok && (e.Kind == errs.KindConflict || e.Kind == errs.KindTooMany) {
			f.add("grantor.nne", e.Message)
			return s.renderRequest(q, http.StatusConflict, f)
		}
		return err
	}
	if len(f.Order) > 0 {
		return s.renderRequest(q, http.StatusUnprocessableEntity, f)
	}
	return q.redirect("/mes-procurations/" + p.Reference + "?nouvelle=1")
}

func (s *Server) myProcurations(q *request) error {
	if !q.requireGrantor() {
		return nil
	}
	items, err := s.svc.MyProcurations(q.ctx(), q.session.Who)
	if err != nil {
		return err
	}
	s.render(q, http.StatusOK, "my_procurations", view{Title: "Mes procurations", Data: items})
	return nil
}

// dossierView is a dossier as its grantor follows it.
type dossierView struct {
	P           store.Procuration
	New         bool
	Cancellable bool
	Commune     string
	Scope       string
	Next        string
	Timeline    []step
}

type step struct {
	At   time.Time
	What string
}

// ownDossier is the dossier a grantor's page shows, read with the session.
func ownDossier(r *http.Request) *store.DossierRead {
	return service.ReadAhead(r.PathValue("ref"), false)
}

func (s *Server) myProcuration(q *request) error {
	if !q.requireGrantor() {
		return nil
	}
	p, err := s.svc.ProcurationWith(q.ctx(), q.session.Who, q.r.PathValue("ref"), q.session.dossier)
	if err != nil {
		return err
	}
	v := dossierView{P: p, New: q.r.URL.Query().Get("nouvelle") == "1", Commune: s.svc.CommuneName(q.ctx(), p.GrantorCommuneCode),
		Cancellable: cancellable(p.Status)}
	v.Scope = s.scope(q, p)
	v.Timeline, v.Next = timeline(p), nextStep(p, s.deadline(q, p))
	s.render(q, http.StatusOK, "my_procuration", view{Title: "Procuration " + p.Reference, Data: v})
	return nil
}

// myProcurationState is what the page's script polls.
func (s *Server) myProcurationState(q *request) error {
	if !q.session.SignedIn() || q.session.Who.Role != auth.RoleGrantor {
		return errs.Unauthenticated("Authentification requise.")
	}
	p, err := s.svc.ProcurationWith(q.ctx(), q.session.Who, q.r.PathValue("ref"), q.session.dossier)
	if err != nil {
		return err
	}
	q.w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(q.w).Encode(map[string]any{"status": p.Status, "updated_at": p.UpdatedAt})
}

// deadline is the day the procuration must be established by: its first
// covered round, or the end of its period.
func (s *Server) deadline(q *request, p store.Procuration) time.Time {
	if p.ElectionID == nil {
		return p.ValidUntil
	}
	first := p.ValidUntil
	if elections, err := s.svc.UpcomingElections(q.ctx()); err == nil {
		for _, e := range elections {
			for _, r := range e.Rounds {
				d, err := time.Parse(time.DateOnly, r.Date)
				if e.ID == *p.ElectionID && err == nil && slices.Contains(p.Rounds, int16(r.Number)) && d.Before(first) {
					first = d
				}
			}
		}
	}
	return first
}

func (s *Server) scope(q *request, p store.Procuration) string {
	if p.ElectionID == nil {
		return "du " + french.Date(p.ValidFrom) + " au " + french.Date(p.ValidUntil)
	}
	name := *p.ElectionID
	var rounds []string
	if elections, err := s.svc.UpcomingElections(q.ctx()); err == nil {
		for _, e := range elections {
			if e.ID != *p.ElectionID {
				continue
			}
			name = e.Name
			for _, r := range e.Rounds {
				for _, n := range p.Rounds {
					if int(n) == r.Number {
						d, _ := time.Parse(time.DateOnly, r.Date)
						rounds = append(rounds, map[int]string{1: "1er tour", 2: "2d tour"}[r.Number]+" le "+french.Day(d))
					}
				}
			}
		}
	}
	if len(rounds) == 0 {
		return name
	}
	return name + " : " + strings.Join(rounds, " et ")
}

// timeline says what happened to the dossier, in order, in French.
func timeline(p store.Procuration) []step {
	var out []step
	for _, h := range p.History {
		what := dossier.Status(h.Status).French()
		switch dossier.Status(h.Status) {
		case dossier.AwaitingPolice:
			what = "Demande enregistrée"
		case dossier.AwaitingTownHall:
			what = "Identité vérifiée"
			if p.Police != nil && p.Police.DigitalIdentity {
				what += " par France Identité"
			} else if p.Police != nil {
				what += " par " + p.Police.AgentName + ", " + p.Police.Rank + ", " + p.Police.Unit
			}
			what += " ; demande transmise à la mairie"
		case dossier.Validated:
			what = "Procuration validée"
			if p.TownHall != nil && p.TownHall.Automatic {
				what += " par le contrôle automatique du répertoire électoral"
			} else {
				what += " par la mairie"
			}
		case dossier.Invalidated:
			what = "Procuration invalidée par la mairie"
		case dossier.Refused:
			what = "Vérification refusée par la police ou la gendarmerie"
		case dossier.Cancelled:
			what = "Procuration résiliée"
		case dossier.Expired:
			what = "Fin de validité"
		}
		out = append(out, step{At: h.At, What: what})
	}
	return out
}

// nextStep says what the grantor does next, and by when.
func nextStep(p store.Procuration, deadline time.Time) string {
	switch p.Status {
	case dossier.AwaitingPolice:
		if p.DigitalIdentity {
			return "Votre identité est certifiée par France Identité : vous n'avez pas à vous rendre au commissariat ou à la gendarmerie. Votre demande part à la mairie."
		}
		return "Présentez-vous dans un commissariat de police ou une brigade de gendarmerie, avec une pièce d'identité et la référence " +
			p.Reference + ", bien avant le " + french.Date(deadline) + ". Sans cette vérification, la procuration ne sera pas établie."
	case dossier.AwaitingTownHall:
		return "La mairie vérifie que vous et votre mandataire êtes inscrits et que votre mandataire peut recevoir cette procuration. Vous serez prévenu(e) par courriel."
	case dossier.Validated:
		if p.ProxyEmail != "" {
			return "Votre procuration est établie jusqu'au " + french.Date(p.ValidUntil) + ". " + p.ProxyGivenNames + " " + p.ProxyFamilyName +
				" en est informé(e) par courriel : votre mandataire votera dans votre bureau de vote, avec sa propre pièce d'identité."
		}
		return "Votre procuration est établie jusqu'au " + french.Date(p.ValidUntil) + ". Prévenez " + p.ProxyGivenNames + " " + p.ProxyFamilyName +
			" : votre mandataire votera dans votre bureau de vote, avec sa propre pièce d'identité."
	case dossier.Refused:
		return "La vérification d'identité a été refusée" + reasonOf(p.Police) + ". Vous pouvez faire une nouvelle demande."
	case dossier.Invalidated:
		reason := ""
		if p.TownHall != nil && p.TownHall.Reason != "" {
			reason = " : " + p.TownHall.Reason
		}
		return "La mairie a invalidé la procuration" + reason + ". Vous pouvez faire une nouvelle demande."
	}
	return ""
}

func reasonOf(pol *store.PoliceRecord) string {
	if pol == nil || pol.Reason == "" {
		return ""
	}
	return " (" + pol.Reason + ")"
}

func (s *Server) cancelForm(q *request) error {
	if !q.requireGrantor() {
		return nil
	}
	p, err := s.svc.Procuration(q.ctx(), q.session.Who, q.r.PathValue("ref"))
	if err != nil {
		return err
	}
	if !cancellable(p.Status) {
		return errs.ConflictIn("Cette procuration est "+p.Status.French()+" : il n'y a plus rien à résilier.", string(p.Status))
	}
	s.render(q, http.StatusOK, "cancel", view{Title: "Résilier la procuration " + p.Reference, Data: p})
	return nil
}

// cancellable: the grantor may still end the procuration (L75).
func cancellable(st dossier.Status) bool {
	return st == dossier.AwaitingPolice || st == dossier.AwaitingTownHall || st == dossier.Validated
}

func (s *Server) cancel(q *request) error {
	if !q.requireGrantor() {
		return nil
	}
	p, err := s.svc.CancelProcuration(q.ctx(), q.session.Who, q.r.PathValue("ref"))
	if err != nil {
		return err
	}
	q.flash("La procuration " + p.Reference + " est résiliée. Un courriel vous le confirme.")
	return q.redirect("/mes-procurations/" + url.PathEscape(p.Reference))
}

// receipt is the dossier's récépissé, as a PDF to keep or print.
func (s *Server) receipt(q *request) error {
	if !q.requireGrantor() {
		return nil
	}
	p, err := s.svc.Procuration(q.ctx(), q.session.Who, q.r.PathValue("ref"))
	if err != nil {
		return err
	}
	r := cerfa.Receipt{Reference: p.Reference, Status: p.Status.French(), Grantor: p.GrantorGivenNames + " " + p.GrantorFamilyName,
		Proxy: p.ProxyGivenNames + " " + p.ProxyFamilyName, Commune: s.svc.CommuneName(q.ctx(), p.GrantorCommuneCode), Scope: s.scope(q, p),
		Issued: french.Instant(time.Now())}
	for _, st := range timeline(p) {
		r.Steps = append(r.Steps, cerfa.ReceiptStep{At: french.Instant(st.At), What: st.What})
	}
	pdf, err := cerfa.RenderReceipt(r)
	if err != nil {
		return err
	}
	q.w.Header().Set("Content-Type", "application/pdf")
	q.w.Header().Set("Content-Disposition", `attachment; filename="recepisse-procuration-`+p.Reference+`.pdf"`)
	_, err = q.w.Write(pdf)
	return err
}

// formOf reads the named fields of a form or a query.
func formOf(r *http.Request, names ...string) form {
	_ = r.ParseForm()
	f := newForm()
	f.fields = names
	for _, n := range names {
		f.Values[n] = strings.TrimSpace(r.Form.Get(n))
		f.Many[n] = r.Form[n]
	}
	return f
}
