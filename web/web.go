// Package web is the HTML transport: the official portals (the grantor's,
// the police's, the town hall's) and support's pages, server-rendered with
// html/template, every form working without JavaScript, the State's design
// system served by the binary. Like api/, it calls the use cases of
// internal/service and holds no business rule.
package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/errs"
	"github.com/procurations/procuration/internal/logging"
	"github.com/procurations/procuration/internal/service"
	"github.com/procurations/procuration/internal/store"
)

//go:embed templates static
var files embed.FS

// Deps is what the portals need.
type Deps struct {
	Service   *service.Service
	Store     *store.Store
	Log       *zap.Logger
	PublicURL string
	// Providers sign people in; a portal whose provider is missing says so.
	Providers []*Provider
	// EncryptionKeys are the portal's keys FranceConnect+ encrypts to
	// (PEM files, comma-separated); CreateKeys makes the first in development.
	EncryptionKeys string
	CreateKeys     bool
	// Idle and absolute session timeouts.
	SessionIdle, SessionMax time.Duration
	// Review is the deployment's town hall review (manual or automatic).
	Review string
	// Links checks the tokens of the links in the campaigns' emails.
	Links *auth.Verifier
}

// Server serves the portals.
type Server struct {
	Deps
	svc      *service.Service
	sessions *sessions
	keys     *encryptionKeys
	pages    map[string]*template.Template
	site     map[string]*template.Template
	bo       map[string]*template.Template
}

// New builds the portals' server.
func New(d Deps) (*Server, error) {
	if d.Log == nil {
		d.Log = zap.NewNop()
	}
	if d.SessionIdle == 0 {
		d.SessionIdle = 30 * time.Minute
	}
	if d.SessionMax == 0 {
		d.SessionMax = 12 * time.Hour
	}
	keys := &encryptionKeys{}
	for _, p := range d.Providers {
		if p.Encrypted {
			var err error
			if keys, err = loadEncryptionKeys(d.EncryptionKeys, d.CreateKeys); err != nil {
				return nil, err
			}
			break
		}
	}
	pages, err := parsePages("templates")
	if err != nil {
		return nil, err
	}
	site, err := parsePages("templates/site")
	if err != nil {
		return nil, err
	}
	bo, err := parseBackOffice()
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(d.PublicURL)
	if err != nil {
		return nil, err
	}
	host := u.Hostname()
	secure := u.Scheme == "https" || (host != "127.0.0.1" && host != "localhost" && host != "::1")
	return &Server{Deps: d, svc: d.Service, keys: keys, pages: pages, site: site, bo: bo,
		sessions: &sessions{store: d.Store, secure: secure, idle: d.SessionIdle, max: d.SessionMax, now: d.Service.Now}}, nil
}

// Register adds the portals' routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	static, _ := fs.Sub(files, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))
	mux.HandleFunc("GET /.well-known/portal-jwks.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.keys.jwks())
	})
	mux.Handle("GET /connexion", s.page(s.signIn))
	mux.Handle("GET /connexion/retour", s.page(s.callback))
	mux.Handle("POST /deconnexion", s.page(s.signOut))
	s.registerGrantor(mux)
	s.registerPolice(mux)
	s.registerTownHall(mux)
	s.registerRights(mux)
	s.registerSite(mux)
	s.registerBackOffice(mux)
}

func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		next.ServeHTTP(w, r)
	})
}

// request is one page request: its session and where the answer goes.
type request struct {
	w       http.ResponseWriter
	r       *http.Request
	session *Session
	srv     *Server
}

func (q *request) ctx() context.Context { return q.r.Context() }

// page wraps a page handler: session loaded and saved, CSRF checked on
// every form, security headers, failures as pages.
func (s *Server) page(h func(*request) error) http.Handler {
	return s.dossierPage(nil, h)
}

// dossierPage is page for a page showing a dossier: the read readAhead
// says (service.ReadAhead) is made with the session, in the same round
// trip, and the handler gives it to the use case (q.session.dossier).
func (s *Server) dossierPage(readAhead func(*http.Request) *store.DossierRead, h func(*request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.securityHeaders(w)
		var dossier *store.DossierRead
		if readAhead != nil {
			dossier = readAhead(r)
		}
		sess, err := s.sessions.load(r, dossier)
		if err != nil {
			logging.Ctx(r.Context(), s.Log).Error("session", zap.Error(err))
			s.problem(w, r, nil, http.StatusServiceUnavailable, "Service momentanément indisponible, réessayez dans quelques instants.")
			return
		}
		if r.Method == http.MethodPost && !sess.validCSRF(r.PostFormValue("csrf")) {
			s.problem(w, r, sess, http.StatusForbidden, "Ce formulaire a expiré ou ne vient pas de ce site : rechargez la page et recommencez.")
			return
		}
		q := &request{w: w, r: r, session: sess, srv: s}
		if err := s.refreshAgent(q); err != nil {
			s.fail(q, err)
			return
		}
		if err := h(q); err != nil {
			s.fail(q, err)
		}
	})
}

// securityHeaders: scripts and styles of this site only, never framed,
// never cached (pages show personal data).
func (s *Server) securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; form-action 'self' "+s.formTargets())
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

// formTargets allows forms to post to the identity providers (sign-in).
func (s *Server) formTargets() string {
	var out []string
	for _, p := range s.Providers {
		if u, err := url.Parse(p.Issuer); err == nil && !slices.Contains(out, u.Scheme+"://"+u.Host) {
			out = append(out, u.Scheme+"://"+u.Host)
		}
	}
	return strings.Join(out, " ")
}

// refreshAgent re-reads an agent's rights at every request: a right revoked
// ends at once, not at the end of the session.
func (s *Server) refreshAgent(q *request) error {
	if !q.session.SignedIn() || q.session.Who.Role == auth.RoleGrantor {
		return nil
	}
	who := q.session.Who
	who.Role, who.Communes, who.Campaigns, who.Unit, who.Rank, who.Admin = "", nil, nil, "", "", false
	fresh, err := s.svc.AgentSessionWith(q.ctx(), who, q.session.rights)
	if errors.Is(err, service.ErrNoRight) {
		q.session.Who = who
		return nil
	}
	if err != nil {
		return err
	}
	q.session.Who = fresh
	return nil
}

// fail renders a use case's failure as a page.
func (s *Server) fail(q *request, err error) {
	e, ok := errs.As(err)
	if !ok {
		logging.Ctx(q.ctx(), s.Log).Error("page failed", zap.String("path", q.r.URL.Path), zap.Error(err))
		s.problem(q.w, q.r, q.session, http.StatusInternalServerError, "Une erreur est survenue ; réessayez dans quelques instants.")
		return
	}
	s.problem(q.w, q.r, q.session, e.HTTPStatus(), e.Message)
}

// Problem answers, as a page, a failure the router or the API's guard
// found on a portal's path (unknown page, wrong method, refused input).
func (s *Server) Problem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	s.securityHeaders(w)
	sess, err := s.sessions.load(r, nil)
	if err != nil {
		sess = nil
	}
	if status == http.StatusNotFound {
		detail = "Cette page n'existe pas. Vérifiez l'adresse, ou repartez de l'accueil."
	}
	s.problem(w, r, sess, status, detail)
}

// problem answers a page that says what went wrong.
func (s *Server) problem(w http.ResponseWriter, r *http.Request, sess *Session, status int, message string) {
	q := &request{w: w, r: r, session: sess, srv: s}
	if sess == nil {
		q.session = &Session{}
	}
	if s.boProblem(q, status, message) || s.siteProblem(q, status, message) {
		return
	}
	s.render(q, status, "problem", view{Title: "Action impossible", Data: message})
}

// redirect answers 303 after a form, saving the session first.
func (q *request) redirect(to string) error {
	if err := q.srv.sessions.save(q.ctx(), q.w, q.session); err != nil {
		return err
	}
	http.Redirect(q.w, q.r, to, http.StatusSeeOther)
	return nil
}

// flash leaves a message for the next page.
func (q *request) flash(msg string) {
	q.session.Flash, q.session.dirty = msg, true
}

// localPath keeps only a path of this site, for the return after sign-in.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.Contains(p, "\\") {
		return "/"
	}
	return p
}
