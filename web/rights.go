package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/service"
	"github.com/procurations/procuration/internal/store"
)

// Support grants agents their rights; a town hall's administrator invites
// its own agents. Every grant and revocation is audited below.
func (s *Server) registerRights(mux *http.ServeMux) {
	mux.Handle("GET /support/droits", s.page(s.rights))
	mux.Handle("POST /support/droits", s.page(s.grant))
	mux.Handle("POST /support/droits/{id}/retirer", s.page(s.revoke))
}

type rightsView struct {
	Rights []store.Right
	Admin  bool
}

func (s *Server) rights(q *request) error {
	return s.renderRights(q, newForm(), http.StatusOK)
}

func (s *Server) renderRights(q *request, f form, status int) error {
	if !q.requireAgent(auth.RoleSupport, auth.RoleTownHall) {
		return nil
	}
	list, err := s.svc.Rights(q.ctx(), q.session.Who)
	if err != nil {
		return err
	}
	if f.Values["role"] == "" {
		f.Values["role"] = auth.RolePolice
		if q.session.Who.Role == auth.RoleTownHall {
			f.Values["role"] = auth.RoleTownHall
		}
	}
	s.render(q, status, "rights", view{Title: "Droits des agents", Form: f, Data: rightsView{Rights: list, Admin: q.session.Who.Role == auth.RoleTownHall}})
	return nil
}

func (s *Server) grant(q *request) error {
	if !q.requireAgent(auth.RoleSupport, auth.RoleTownHall) {
		return nil
	}
	f := formOf(q.r, "email", "role", "unit", "rank", "communes", "campaigns", "admin", "valid_until")
	split := func(v string) []string {
		return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == ';' })
	}
	communes, campaigns := split(f.Value("communes")), split(f.Value("campaigns"))
	_, err := s.svc.GrantRight(q.ctx(), q.session.Who, service.Grant{Email: f.Value("email"), Role: f.Value("role"), Unit: f.Value("unit"),
		Rank: f.Value("rank"), Communes: communes, Campaigns: campaigns, Admin: f.Value("admin") == "oui", ValidUntil: f.Value("valid_until")})
	alias := map[string]string{}
	for i := range max(len(communes), len(campaigns)) {
		alias[fmt.Sprintf("communes[%d]", i)], alias[fmt.Sprintf("campaigns[%d]", i)] = "communes", "campaigns"
	}
	if err = f.fromError(err, alias); err != nil {
		return err
	}
	if len(f.Order) > 0 {
		return s.renderRights(q, f, http.StatusUnprocessableEntity)
	}
	q.flash("Droit attribué à " + f.Value("email") + " : il s'applique dès sa prochaine page.")
	return q.redirect("/support/droits")
}

func (s *Server) revoke(q *request) error {
	if !q.requireAgent(auth.RoleSupport, auth.RoleTownHall) {
		return nil
	}
	id, _ := strconv.ParseInt(q.r.PathValue("id"), 10, 64)
	if err := s.svc.RevokeRight(q.ctx(), q.session.Who, id); err != nil {
		return err
	}
	q.flash("Droit retiré : il cesse à la prochaine page de l'agent.")
	return q.redirect("/support/droits")
}
