package web

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"time"

	"go.uber.org/zap"
	"golang.org/x/oauth2"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/errs"
	"github.com/procurations/procuration/internal/logging"
	"github.com/procurations/procuration/internal/service"
)

func (s *Server) provider(name string) *Provider {
	for _, p := range s.Providers {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// signIn starts the authorization code flow with PKCE, a state and a nonce
// of 43 random characters each, kept in the session for the callback.
func (s *Server) signIn(q *request) error {
	p := s.provider(q.r.URL.Query().Get("fournisseur"))
	if p == nil {
		return errs.NotFound("Ce fournisseur d'identité n'est pas configuré sur ce service.")
	}
	prov, err := p.discover(q.ctx())
	if err != nil {
		logging.Ctx(q.ctx(), s.Log).Warn("identity provider unavailable", zap.String("provider", p.Name), zap.Error(err))
		return errs.ServiceUnavailable(err)
	}
	login := &pendingLogin{Provider: p.Name, State: randomToken(32), Nonce: randomToken(32), Verifier: oauth2.GenerateVerifier(),
		Next: localPath(q.r.URL.Query().Get("suite")), At: time.Now()}
	q.session.Login, q.session.dirty = login, true
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(login.Verifier), oauth2.SetAuthURLParam("nonce", login.Nonce)}
	if p.ACR != "" {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", p.ACR))
	}
	return q.redirect(p.oauth(prov, s.callbackURL()).AuthCodeURL(login.State, opts...))
}

// callback ends the flow: state checked, code redeemed, tokens verified;
// the session gets a new id and the person's identity. An agent's rights
// come from PostgreSQL, never from the token.
func (s *Server) callback(q *request) error {
	login := q.session.Login
	query := q.r.URL.Query()
	if login == nil || time.Since(login.At) > 10*time.Minute ||
		subtle.ConstantTimeCompare([]byte(query.Get("state")), []byte(login.State)) != 1 {
		return errs.Forbidden("Cette connexion n'a pas été demandée depuis ce navigateur, ou a expiré : recommencez.")
	}
	if e := query.Get("error"); e != "" {
		q.session.Login, q.session.dirty = nil, true
		return errs.Forbidden("La connexion a été refusée ou annulée par le fournisseur d'identité.")
	}
	p := s.provider(login.Provider)
	if p == nil {
		return errs.NotFound("Ce fournisseur d'identité n'est plus configuré.")
	}
	in, err := s.exchange(q.ctx(), p, login, query.Get("code"))
	if errors.Is(err, errProviderDown) {
		return errs.ServiceUnavailable(err)
	}
	if err != nil {
		logging.Ctx(q.ctx(), s.Log).Warn("sign-in refused", zap.String("provider", p.Name), zap.Error(err))
		return errs.Forbidden("La connexion n'a pas pu être vérifiée : recommencez.")
	}
	who := in.Claims
	if p.Agents {
		fresh, err := s.svc.AgentSignedIn(q.ctx(), who)
		switch {
		case errors.Is(err, service.ErrNoRight):
		case err != nil:
			return err
		default:
			who = fresh
		}
	} else {
		who.Role = auth.RoleGrantor
	}
	s.sessions.renew(q.ctx(), q.session)
	q.session.Who, q.session.Provider, q.session.IDToken, q.session.Login = who, p.Name, in.IDToken, nil
	return q.redirect(login.Next)
}

// signOut ends the session here and at the provider.
func (s *Server) signOut(q *request) error {
	to := "/deconnexion/fin"
	if p := s.provider(q.session.Provider); p != nil && q.session.IDToken != "" {
		to = s.endSessionURL(q.ctx(), p, q.session.IDToken)
	}
	s.sessions.end(q.ctx(), q.w, q.session)
	http.Redirect(q.w, q.r, to, http.StatusSeeOther)
	return nil
}

// signedIn asks for a sign-in with one of kinds of providers, or passes.
func (q *request) requireGrantor() bool {
	if q.session.SignedIn() && q.session.Who.Role == auth.RoleGrantor {
		return true
	}
	q.srv.render(q, http.StatusUnauthorized, "signin", view{Title: "Identifiez-vous", Data: signInView{Next: q.r.URL.RequestURI(),
		Grantor: true, Providers: q.srv.Providers}})
	return false
}

// requireAgent asks an agent to sign in, or says they have no right here.
func (q *request) requireAgent(roles ...string) bool {
	who := q.session.Who
	if !q.session.SignedIn() || who.Role == auth.RoleGrantor {
		q.srv.render(q, http.StatusUnauthorized, "signin", view{Title: "Identifiez-vous", Data: signInView{Next: q.r.URL.RequestURI(),
			Providers: q.srv.Providers}})
		return false
	}
	for _, r := range roles {
		if who.Role == r {
			return true
		}
	}
	q.srv.render(q, http.StatusForbidden, "no_right", view{Title: "Accès non autorisé", Data: roles})
	return false
}

type signInView struct {
	Next      string
	Grantor   bool
	Providers []*Provider
}
