package web

import (
	"net/http"
	"net/url"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/errs"
	"github.com/procurations/procuration/internal/service"
	"github.com/procurations/procuration/internal/store"
)

// The police portal is made for a counter with a queue: the reference
// field has the focus, Enter opens the dossier with the focus on the ID
// number, Enter verifies, Enter on the receipt comes back for the next one.
func (s *Server) registerPolice(mux *http.ServeMux) {
	mux.Handle("GET /police", s.page(s.policeHome))
	mux.Handle("GET /police/dossier", s.dossierPage(examinedDossier, s.policeDossier))
	mux.Handle("POST /police/dossier/{ref}", s.page(s.policeVerify))
	mux.Handle("GET /police/recu/{ref}", s.page(s.policeReceipt))
}

// idKinds are the documents an officer may check.
var idKinds = []struct{ Value, Label string }{
	{"cni", "Carte nationale d'identité"}, {"passeport", "Passeport"}, {"titre_sejour", "Titre de séjour"},
	{"permis", "Permis de conduire"}, {"carte_vitale_photo", "Carte Vitale avec photographie"}, {"autre", "Autre pièce avec photographie"},
	{"aucune", "Aucune pièce valable présentée (refus)"},
}

type policeView struct {
	X       service.Examination
	Kinds   any
	Commune string
	// Born are the birthplaces, as the identity provider asserted it and as
	// the register has it ("" when unknown).
	BornAsserted, BornRegister string
}

func (s *Server) policeView(q *request, x service.Examination) policeView {
	v := policeView{X: x, Kinds: idKinds, Commune: s.svc.CommuneName(q.ctx(), x.Dossier.GrantorCommuneCode)}
	v.BornAsserted = s.birthplace(q, x.Dossier.GrantorBirthPlace, x.Dossier.GrantorBirthCountry)
	if x.Grantor != nil {
		v.BornRegister = s.birthplace(q, x.Grantor.BirthPlace, "")
	}
	return v
}

// birthplace names a birthplace from its INSEE codes: a commune, or a
// country (99xxx) for those born abroad.
func (s *Server) birthplace(q *request, place, country string) string {
	switch {
	case place != "":
		return s.svc.CommuneName(q.ctx(), place)
	case country != "" && country != "99100":
		return "à l'étranger (pays " + country + ")"
	}
	return ""
}

func (s *Server) policeHome(q *request) error {
	if !q.requireAgent(auth.RolePolice) {
		return nil
	}
	s.render(q, http.StatusOK, "police_home", view{Title: "Vérifier un dossier", Form: newForm()})
	return nil
}

// examinedDossier is the dossier an officer asked for, read with the
// session.
func examinedDossier(r *http.Request) *store.DossierRead {
	return service.ReadAhead(r.URL.Query().Get("reference"), true)
}

func (s *Server) policeDossier(q *request) error {
	if !q.requireAgent(auth.RolePolice) {
		return nil
	}
	f := formOf(q.r, "reference")
	x, err := s.svc.ExamineProcurationWith(q.ctx(), q.session.Who, f.Value("reference"), q.session.dossier)
	if e, ok := errs.As(err); ok && (e.Kind == errs.KindNotFound || e.Kind == errs.KindTooMany) {
		// Not there or not ours: the same words either way.
		msg := "Aucun dossier ne correspond à cette référence. Vérifiez les 6 caractères."
		if e.Kind == errs.KindTooMany {
			msg = e.Message
		}
		f.add("reference", msg)
		s.render(q, e.HTTPStatus(), "police_home", view{Title: "Vérifier un dossier", Form: f})
		return nil
	}
	if err != nil {
		return err
	}
	f.Values["id_document.kind"] = "cni"
	s.render(q, http.StatusOK, "police_dossier", view{Title: "Dossier " + x.Dossier.Reference, Form: f,
		Data: s.policeView(q, x)})
	return nil
}

func (s *Server) policeVerify(q *request) error {
	if !q.requireAgent(auth.RolePolice) {
		return nil
	}
	ref := q.r.PathValue("ref")
	f := formOf(q.r, "id_document.kind", "id_document.number", "reason", "outcome")
	_, err := s.svc.VerifyIdentity(q.ctx(), q.session.Who, ref, service.Verification{Outcome: f.Value("outcome"),
		IDKind: f.Value("id_document.kind"), IDNumber: f.Value("id_document.number"), Reason: f.Value("reason")})
	if err = f.fromError(err, nil); err != nil {
		return err
	}
	if len(f.Order) > 0 {
		x, err := s.svc.ExamineProcuration(q.ctx(), q.session.Who, ref)
		if err != nil {
			return err
		}
		s.render(q, http.StatusUnprocessableEntity, "police_dossier", view{Title: "Dossier " + x.Dossier.Reference, Form: f,
			Data: s.policeView(q, x)})
		return nil
	}
	return q.redirect("/police/recu/" + url.PathEscape(ref))
}

func (s *Server) policeReceipt(q *request) error {
	if !q.requireAgent(auth.RolePolice) {
		return nil
	}
	x, err := s.svc.ExamineProcuration(q.ctx(), q.session.Who, q.r.PathValue("ref"))
	if err != nil {
		return err
	}
	s.render(q, http.StatusOK, "police_receipt", view{Title: "Récépissé du dossier " + x.Dossier.Reference, Data: x})
	return nil
}
