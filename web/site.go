package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/errs"
	"github.com/procurations/procuration/internal/match"
	"github.com/procurations/procuration/internal/service"
	"github.com/procurations/procuration/internal/store"
)

// A campaign's public site (/c/{campaign}/): its own name, colour and logo,
// never the State's; the two doors (need a proxy, carry one), and the pages
// behind every email link. The links' tokens travel in the page's forms:
// a GET never acts, so link scanners change nothing.
func (s *Server) registerSite(mux *http.ServeMux) {
	mux.Handle("GET /c/{campaign}/{$}", s.page(s.siteHome))
	mux.Handle("GET /c/{campaign}/theme.css", http.HandlerFunc(s.siteTheme))
	mux.Handle("GET /c/{campaign}/inscription/{side}", s.page(s.signupForm))
	mux.Handle("POST /c/{campaign}/inscription/{side}", s.page(s.signup))
	mux.Handle("GET /c/{campaign}/inscription-envoyee", s.page(s.signupSent))
	mux.Handle("GET /c/{campaign}/confirmer/{id}", s.page(s.confirmForm))
	mux.Handle("POST /c/{campaign}/confirmer/{id}", s.page(s.confirm))
	mux.Handle("GET /c/{campaign}/offre/{match}", s.page(s.offer))
	mux.Handle("POST /c/{campaign}/offre/{match}", s.page(s.answer))
	mux.Handle("GET /c/{campaign}/ma-mise-en-relation/{match}", s.page(s.myMatch))
	mux.Handle("POST /c/{campaign}/ma-mise-en-relation/{match}", s.page(s.linkDossier))
	mux.Handle("GET /c/{campaign}/ma-mise-en-relation/{match}/cerfa.pdf", s.page(s.matchCerfa))
}

// siteForms are the site's pages that post a form.
var siteForms = map[string]bool{"signup": true, "confirm": true, "offer": true, "match": true}

// sides are the two doors, by their path.
var sides = map[string]string{"mandant": store.SideRequest, "mandataire": store.SideVolunteer}

func (s *Server) loadSite(q *request) (*service.Site, error) {
	site, err := s.svc.CampaignSite(q.ctx(), q.r.PathValue("campaign"))
	if err != nil {
		return nil, err
	}
	// A campaign's logo may live on its own site.
	q.w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: https:; style-src 'self'; frame-ancestors 'none'; form-action 'self'")
	return &site, nil
}

// renderSite writes a page of the campaign's site; its failures too, so
// that nothing on it wears the State's identity.
func (s *Server) renderSite(q *request, site *service.Site, status int, page string, v view) {
	v.Site, v.Portal = site, "site"
	// A page with a form carries the session's CSRF token, which must be
	// found on the way back: that visitor's session is kept. Pages without
	// one (the home page a surge of visitors opens) cost no row.
	if q.session.id == "" && siteForms[page] {
		q.session.dirty = true
	}
	s.renderIn(s.site, q, status, page, v)
}

func (s *Server) siteFail(q *request, site *service.Site, err error) error {
	e, ok := errs.As(err)
	if !ok || site == nil {
		return err
	}
	s.renderSite(q, site, e.HTTPStatus(), "message", view{Title: "Action impossible", Data: message{Title: "Action impossible", Text: e.Message}})
	return nil
}

type message struct {
	Title, Text string
	// Next is where to go on, if anywhere.
	Next, NextLabel string
}

func (s *Server) siteTheme(w http.ResponseWriter, r *http.Request) {
	site, err := s.svc.CampaignSite(r.Context(), r.PathValue("campaign"))
	color := service.DefaultCampaignColor
	if err == nil {
		color = site.Campaign.Site.Color
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	fmt.Fprintf(w, ":root { --campaign: %s; }\n", color)
}

func (s *Server) siteHome(q *request) error {
	site, err := s.loadSite(q)
	if err != nil {
		return err
	}
	s.renderSite(q, site, http.StatusOK, "home", view{Title: site.Campaign.Name})
	return nil
}

type signupView struct {
	Side, Path string
}

func (s *Server) signupForm(q *request) error {
	site, err := s.loadSite(q)
	if err != nil {
		return err
	}
	side, ok := sides[q.r.PathValue("side")]
	if !ok {
		return errs.NotFound("Page introuvable.")
	}
	s.renderSite(q, site, http.StatusOK, "signup", view{Title: signupTitle(side), Data: signupView{Side: side, Path: q.r.PathValue("side")}})
	return nil
}

func signupTitle(side string) string {
	if side == store.SideVolunteer {
		return "Je peux porter une procuration"
	}
	return "J'ai besoin d'une procuration"
}

func (s *Server) signup(q *request) error {
	site, err := s.loadSite(q)
	if err != nil {
		return err
	}
	side, ok := sides[q.r.PathValue("side")]
	if !ok {
		return errs.NotFound("Page introuvable.")
	}
	f := formOf(q.r, "given_names", "family_name", "birth_date", "commune_code", "nne", "email", "phone", "rounds", "consent")
	var rounds []int
	for _, r := range f.Many["rounds"] {
		var n int
		fmt.Sscan(r, &n)
		rounds = append(rounds, n)
	}
	_, err = s.svc.SignUp(q.ctx(), side, site.Campaign.ID, service.SignupForm{GivenNames: f.Value("given_names"), FamilyName: f.Value("family_name"),
		BirthDate: f.Value("birth_date"), Email: f.Value("email"), Phone: f.Value("phone"), CommuneCode: f.Value("commune_code"),
		NNE: strings.TrimSpace(f.Value("nne")), Rounds: rounds, Consent: f.Value("consent") == "oui"}, service.Client(q.ctx()))
	if err = f.fromError(err, nil); err != nil {
		return s.siteFail(q, site, err)
	}
	if len(f.Order) > 0 {
		s.renderSite(q, site, http.StatusUnprocessableEntity, "signup", view{Title: signupTitle(side), Form: f,
			Data: signupView{Side: side, Path: q.r.PathValue("side")}})
		return nil
	}
	return q.redirect("/c/" + url.PathEscape(site.Campaign.ID) + "/inscription-envoyee")
}

func (s *Server) signupSent(q *request) error {
	site, err := s.loadSite(q)
	if err != nil {
		return err
	}
	s.renderSite(q, site, http.StatusOK, "message", view{Title: "Vérifiez votre messagerie", Data: message{Title: "Vérifiez votre messagerie",
		Text: "Nous vous avons envoyé un courriel : ouvrez le lien qu'il contient pour confirmer votre inscription à " + site.Campaign.Name +
			". Sans confirmation dans les 7 jours, l'inscription n'est pas prise en compte."}})
	return nil
}

// link is the identity a link's token gives, checked as a bearer token is.
func (s *Server) link(q *request, token string) (auth.Claims, error) {
	if s.Links == nil || token == "" {
		return auth.Claims{}, errs.Forbidden("Lien invalide ou expiré.")
	}
	claims, err := s.Links.Verify(q.ctx(), token)
	if err != nil {
		return auth.Claims{}, errs.Forbidden("Lien invalide ou expiré : utilisez le lien du dernier courriel reçu.")
	}
	return claims, nil
}

type linkView struct {
	Token, ID string
}

func (s *Server) confirmForm(q *request) error {
	site, err := s.loadSite(q)
	if err != nil {
		return err
	}
	s.renderSite(q, site, http.StatusOK, "confirm", view{Title: "Confirmer mon inscription à " + site.Campaign.Name,
		Data: linkView{Token: q.r.URL.Query().Get("token"), ID: q.r.PathValue("id")}})
	return nil
}

func (s *Server) confirm(q *request) error {
	site, err := s.loadSite(q)
	if err != nil {
		return err
	}
	who, err := s.link(q, q.r.PostFormValue("token"))
	if err == nil {
		_, err = s.svc.ConfirmSignup(q.ctx(), who, q.r.PathValue("id"))
	}
	if err != nil {
		return s.siteFail(q, site, err)
	}
	s.renderSite(q, site, http.StatusOK, "message", view{Title: "Inscription confirmée", Data: message{Title: "Inscription confirmée",
		Text: "Merci : votre inscription à " + site.Campaign.Name + " est confirmée. Vous recevrez un courriel dès qu'une personne près de chez vous pourra être mise en relation avec vous."}})
	return nil
}

func (s *Server) offer(q *request) error {
	site, err := s.loadSite(q)
	if err != nil {
		return err
	}
	token := q.r.URL.Query().Get("token")
	who, err := s.link(q, token)
	var p service.MatchPage
	if err == nil {
		p, err = s.svc.MatchForParty(q.ctx(), who, q.r.PathValue("match"))
	}
	if err != nil {
		return s.siteFail(q, site, err)
	}
	s.renderSite(q, site, http.StatusOK, "offer", view{Title: "Une mise en relation vous est proposée",
		Data: offerView{MatchPage: p, Token: token, Proximity: proximity(p.Match.Tier), Chosen: q.r.URL.Query().Get("outcome")}})
	return nil
}

type offerView struct {
	service.MatchPage
	Token, Proximity, Chosen string
}

func proximity(tier int16) string {
	names := []string{"même bureau de vote", "même commune", "même intercommunalité", "même arrondissement", "même département"}
	if int(tier) < len(names) && tier >= 0 {
		return names[tier]
	}
	return ""
}

func (s *Server) answer(q *request) error {
	site, err := s.loadSite(q)
	if err != nil {
		return err
	}
	who, err := s.link(q, q.r.PostFormValue("token"))
	if err == nil && !who.Allows(auth.PurposeAnswerOffer, q.r.PathValue("match")) {
		err = errs.Forbidden("Ce lien ne permet pas de répondre à cette mise en relation.")
	}
	outcome := q.r.PostFormValue("outcome")
	if err == nil {
		_, err = s.svc.AnswerMatch(q.ctx(), who, q.r.PathValue("match"), outcome)
	}
	if err != nil {
		return s.siteFail(q, site, err)
	}
	text := "Merci : votre réponse est enregistrée. Dès que l'autre personne aura répondu, un courriel vous dira la suite."
	if outcome == "declined" {
		text = "Votre refus est enregistré. Nous vous proposerons une autre mise en relation si possible."
	}
	s.renderSite(q, site, http.StatusOK, "message", view{Title: "Réponse enregistrée", Data: message{Title: "Réponse enregistrée", Text: text}})
	return nil
}

type matchView struct {
	service.MatchPage
	Token, Proximity string
	// OfficialURL is where the requester makes the official request.
	OfficialURL string
	CanLink     bool
}

func (s *Server) matchPage(q *request, site *service.Site, token string, f form, status int) error {
	who, err := s.link(q, token)
	var p service.MatchPage
	if err == nil {
		p, err = s.svc.MatchForParty(q.ctx(), who, q.r.PathValue("match"))
	}
	if err != nil {
		return s.siteFail(q, site, err)
	}
	v := matchView{MatchPage: p, Token: token, Proximity: proximity(p.Match.Tier), OfficialURL: site.Campaign.Site.RequestURL(s.PublicURL),
		CanLink: p.Party == match.Requester && p.Match.Status == match.Accepted}
	s.renderSite(q, site, status, "match", view{Title: "Ma mise en relation", Form: f, Data: v})
	return nil
}

func (s *Server) myMatch(q *request) error {
	site, err := s.loadSite(q)
	if err != nil {
		return err
	}
	return s.matchPage(q, site, q.r.URL.Query().Get("token"), newForm(), http.StatusOK)
}

func (s *Server) linkDossier(q *request) error {
	site, err := s.loadSite(q)
	if err != nil {
		return err
	}
	f := formOf(q.r, "reference")
	token := q.r.PostFormValue("token")
	who, err := s.link(q, token)
	if err != nil {
		return s.siteFail(q, site, err)
	}
	_, err = s.svc.LinkDossier(q.ctx(), who, q.r.PathValue("match"), strings.ToUpper(strings.TrimSpace(f.Value("reference"))))
	if err = f.fromError(err, nil); err != nil {
		var e *errs.Error
		if errors.As(err, &e) && e.Kind == errs.KindConflict {
			f.Refused = e.Message
			return s.matchPage(q, site, token, f, http.StatusConflict)
		}
		return s.siteFail(q, site, err)
	}
	if len(f.Order) > 0 {
		return s.matchPage(q, site, token, f, http.StatusUnprocessableEntity)
	}
	q.flash("Référence enregistrée : nous suivons la validation de votre procuration et vous écrirons dès qu'elle sera validée.")
	return s.matchPage(q, site, token, newForm(), http.StatusOK)
}

func (s *Server) matchCerfa(q *request) error {
	site, err := s.loadSite(q)
	if err != nil {
		return err
	}
	// A download, like the page it is linked from: reading only.
	who, err := s.link(q, q.r.URL.Query().Get("token"))
	var pdf []byte
	if err == nil {
		pdf, err = s.svc.MatchCerfa(q.ctx(), who, q.r.PathValue("match"))
	}
	if err != nil {
		return s.siteFail(q, site, err)
	}
	q.w.Header().Set("Content-Type", "application/pdf")
	q.w.Header().Set("Content-Disposition", `attachment; filename="cerfa-14952-procuration.pdf"`)
	_, err = q.w.Write(pdf)
	return err
}

// siteProblem answers a failure on a campaign's site with the campaign's
// own page, never the State's; false when the path names no campaign.
func (s *Server) siteProblem(q *request, status int, text string) bool {
	rest, ok := strings.CutPrefix(q.r.URL.Path, "/c/")
	if !ok {
		return false
	}
	id, _, _ := strings.Cut(rest, "/")
	site, err := s.svc.CampaignSite(q.ctx(), id)
	if err != nil {
		return false
	}
	s.renderSite(q, &site, status, "message", view{Title: "Action impossible", Data: message{Title: "Action impossible", Text: text}})
	return true
}
