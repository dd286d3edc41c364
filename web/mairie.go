package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/internal/errs"
	"github.com/procurations/procuration/internal/french"
	"github.com/procurations/procuration/internal/service"
	"github.com/procurations/procuration/internal/store"
)

func (s *Server) registerTownHall(mux *http.ServeMux) {
	mux.Handle("GET /mairie", s.page(s.townHallQueue))
	mux.Handle("GET /mairie/dossier/{ref}", s.page(s.townHallDossier))
	mux.Handle("POST /mairie/dossier/{ref}", s.page(s.townHallDecide))
	mux.Handle("GET /mairie/liste-emargement", s.page(s.signingSheet))
}

// invalidationReasons are the grounds a town hall invalidates on (Code
// électoral L71-L78, R72-R80); "autre" lets the agent write one.
var invalidationReasons = []string{
	"Le mandant n'est pas inscrit sur la liste électorale de la commune",
	"Le mandataire n'est inscrit sur aucune liste électorale",
	"Le mandataire détient déjà le nombre maximal de procurations (article L73 du code électoral)",
	"Le mandant et le mandataire sont la même personne",
	"Le mandataire a perdu ses droits civiques ou est décédé",
	"La demande est incomplète ou ses informations sont erronées",
}

var queueStatuses = []dossier.Status{dossier.AwaitingTownHall, dossier.AwaitingPolice, dossier.Validated, dossier.Invalidated,
	dossier.Refused, dossier.Cancelled, dossier.Expired}

// communeOption is a commune in a list: its code, sent, and its name, shown.
type communeOption struct{ Code, Name string }

func (s *Server) communeOptions(q *request, codes []string) []communeOption {
	out := make([]communeOption, len(codes))
	for i, c := range codes {
		out[i] = communeOption{Code: c, Name: s.svc.CommuneName(q.ctx(), c)}
	}
	return out
}

type queueView struct {
	Q        service.Queue
	Communes []communeOption
	Commune  string
	Status   dossier.Status
	Statuses []dossier.Status
	Search   string
	Found    []store.Procuration
	Searched bool
}

func (s *Server) townHallQueue(q *request) error {
	if !q.requireAgent(auth.RoleTownHall) {
		return nil
	}
	who := q.session.Who
	v := queueView{Communes: s.communeOptions(q, who.Communes), Statuses: queueStatuses, Status: dossier.AwaitingTownHall}
	query := q.r.URL.Query()
	v.Commune = query.Get("commune")
	if !slices.Contains(who.Communes, v.Commune) {
		v.Commune = who.Communes[0]
	}
	if st := dossier.Status(query.Get("statut")); slices.Contains(queueStatuses, st) {
		v.Status = st
	}
	if v.Search = query.Get("q"); v.Search != "" {
		found, err := s.svc.SearchDossiers(q.ctx(), who, v.Search)
		if err != nil {
			return err
		}
		v.Found, v.Searched = found, true
	}
	queue, err := s.svc.TownHallQueue(q.ctx(), who, v.Commune, v.Status, query.Get("suite"))
	if err != nil {
		return err
	}
	v.Q = queue
	s.render(q, http.StatusOK, "mairie_queue", view{Title: "Dossiers de " + queue.Commune.Name, Data: v})
	return nil
}

type decisionView struct {
	X            service.Examination
	Commune      string
	ProxyCommune string
	Scope        string
	Automatic    bool
	Reasons      []string
}

func (s *Server) examination(q *request, f form, status int) error {
	x, err := s.svc.ExamineProcuration(q.ctx(), q.session.Who, q.r.PathValue("ref"))
	if err != nil {
		return err
	}
	v := decisionView{X: x, Commune: s.svc.CommuneName(q.ctx(), x.Dossier.GrantorCommuneCode), Scope: s.scope(q, x.Dossier),
		Automatic: s.Review == string(dossier.ReviewAutomatic), Reasons: invalidationReasons}
	if x.Proxy != nil {
		v.ProxyCommune = s.svc.CommuneName(q.ctx(), x.Proxy.CommuneCode)
	}
	s.render(q, status, "mairie_dossier", view{Title: "Dossier " + x.Dossier.Reference, Form: f, Data: v})
	return nil
}

func (s *Server) townHallDossier(q *request) error {
	if !q.requireAgent(auth.RoleTownHall) {
		return nil
	}
	return s.examination(q, newForm(), http.StatusOK)
}

func (s *Server) townHallDecide(q *request) error {
	if !q.requireAgent(auth.RoleTownHall) {
		return nil
	}
	f := formOf(q.r, "reason", "reason.other", "outcome")
	reason := f.Value("reason")
	if reason == "autre" {
		reason = f.Value("reason.other")
	}
	if f.Value("outcome") == dossier.TownHallValidated {
		reason = ""
	}
	p, err := s.svc.DecideProcuration(q.ctx(), q.session.Who, q.r.PathValue("ref"), service.Decision{Outcome: f.Value("outcome"), Reason: reason})
	alias := map[string]string{}
	if f.Value("reason") == "autre" {
		alias["reason"] = "reason.other"
	}
	if e, ok := errs.As(err); ok && e.Kind == errs.KindConflict && e.State == string(dossier.AwaitingTownHall) {
		// Past the proxy's cap: the page again, to invalidate instead.
		f.Refused = e.Message
		return s.examination(q, f, http.StatusConflict)
	}
	if err = f.fromError(err, alias); err != nil {
		return err
	}
	if len(f.Order) > 0 {
		return s.examination(q, f, http.StatusUnprocessableEntity)
	}
	q.flash(fmt.Sprintf("Dossier %s : procuration %s. Le mandant en est informé par courriel.", p.Reference, p.Status.French()))
	return q.redirect("/mairie?commune=" + url.QueryEscape(p.GrantorCommuneCode))
}

type sheetView struct {
	Communes  []communeOption
	Commune   string
	Elections []store.Election
	Election  string
	Round     int
	Station   string
	Stations  []store.PollingStation
	Day       time.Time
	Lines     []store.Signing
	Asked     bool
}

// signingSheet lists, for a round and a polling station, the proxies to add
// to the sign-in sheet, as a printable page or as CSV.
func (s *Server) signingSheet(q *request) error {
	if !q.requireAgent(auth.RoleTownHall) {
		return nil
	}
	who := q.session.Who
	query := q.r.URL.Query()
	elections, err := s.svc.UpcomingElections(q.ctx())
	if err != nil {
		return err
	}
	v := sheetView{Communes: s.communeOptions(q, who.Communes), Commune: query.Get("commune"), Elections: elections, Election: query.Get("election"),
		Station: query.Get("bureau")}
	fmt.Sscan(query.Get("tour"), &v.Round)
	if !slices.Contains(who.Communes, v.Commune) {
		v.Commune = who.Communes[0]
	}
	if v.Stations, err = s.svc.CommuneStations(q.ctx(), who, v.Commune); err != nil {
		return err
	}
	if v.Election != "" && v.Round > 0 {
		v.Asked = true
		v.Lines, v.Day, err = s.svc.SigningSheet(q.ctx(), who, v.Commune, v.Election, v.Round, v.Station)
		if err != nil {
			return err
		}
		if query.Get("format") == "csv" {
			return writeSheet(q.w, v)
		}
	}
	s.render(q, http.StatusOK, "mairie_sheet", view{Title: "Liste des procurations pour l'émargement", Data: v})
	return nil
}

func writeSheet(w http.ResponseWriter, v sheetView) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="procurations-%s-%s-tour%d.csv"`, v.Commune, v.Day.Format(time.DateOnly), v.Round))
	out := csv.NewWriter(w)
	_ = out.Write([]string{"bureau_de_vote", "bureau_de_vote_nom", "mandataire_nom", "mandataire_prenoms", "mandataire_naissance", "mandant_nom", "mandant_prenoms",
		"mandant_numero_electeur", "valable_jusqu_au", "reference"})
	for _, l := range v.Lines {
		_ = out.Write([]string{l.PollingStation, l.Station().Label(), l.ProxyFamilyName, l.ProxyGivenNames, l.ProxyBirthDate.Format("02/01/2006"), l.GrantorFamilyName,
			l.GrantorGivenNames, l.GrantorNNE, french.Date(l.ValidUntil), l.Reference})
	}
	out.Flush()
	return out.Error()
}

// StationLabel names the chosen station, for the sheet's title.
func (v sheetView) StationLabel() string {
	for _, st := range v.Stations {
		if st.Code == v.Station {
			return st.Label()
		}
	}
	return store.StationNumber(v.Station)
}
