package web

import (
	"encoding/csv"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/campaign"
	"github.com/procurations/procuration/internal/errs"
	"github.com/procurations/procuration/internal/french"
	"github.com/procurations/procuration/internal/geo"
	"github.com/procurations/procuration/internal/match"
	"github.com/procurations/procuration/internal/service"
	"github.com/procurations/procuration/internal/store"
)

// The campaign's back office (/bo/{campaign}/): the campaign's own tool,
// not a State service, so it has its own plain layout. Its team signs in
// with the agents' provider; what they may do comes from their rights.
func (s *Server) registerBackOffice(mux *http.ServeMux) {
	mux.Handle("GET /bo/{$}", s.page(s.boHome))
	mux.Handle("GET /bo/{campaign}/{$}", s.page(s.boDashboard))
	mux.Handle("GET /bo/{campaign}/mise-en-relation", s.page(s.boMatching))
	mux.Handle("POST /bo/{campaign}/mise-en-relation", s.page(s.boRun))
	mux.Handle("GET /bo/{campaign}/propositions", s.page(s.boProposals))
	mux.Handle("POST /bo/{campaign}/propositions", s.page(s.boBulk))
	mux.Handle("GET /bo/{campaign}/traitements/{job}", s.page(s.boJob))
	mux.Handle("GET /bo/{campaign}/mises-en-relation", s.page(s.boMatches))
	mux.Handle("GET /bo/{campaign}/mises-en-relation/{match}", s.page(s.boMatch))
	mux.Handle("POST /bo/{campaign}/mises-en-relation/{match}/annuler", s.page(s.boCancel))
	mux.Handle("GET /bo/{campaign}/personnes", s.page(s.boPeople))
	mux.Handle("GET /bo/{campaign}/proposer/{request}", s.page(s.boCandidates))
	mux.Handle("POST /bo/{campaign}/proposer/{request}", s.page(s.boPropose))
	mux.Handle("GET /bo/{campaign}/mises-en-relation.csv", s.page(s.boExport))
	mux.Handle("GET /bo/{campaign}/reglages", s.page(s.boSettings))
	mux.Handle("POST /bo/{campaign}/reglages", s.page(s.boSaveSettings))
	mux.Handle("GET /bo/{campaign}/equipe", s.page(s.boTeam))
	mux.Handle("POST /bo/{campaign}/equipe", s.page(s.boInvite))
	mux.Handle("POST /bo/{campaign}/equipe/{id}/retirer", s.page(s.boRemove))
}

// boPage is what every back office page carries for its layout.
type boPage struct {
	Campaign store.Campaign
	// Admin: the campaign's administrator (settings, team).
	Admin bool
	// Section is the menu's current item.
	Section string
}

func (b boPage) Base() string { return "/bo/" + b.Campaign.ID }

type boMessage struct {
	boPage
	Text string
	// Providers: a sign-in page's.
	Providers []*Provider
	Next      string
}

func (s *Server) renderBO(q *request, status int, page string, v view) {
	v.Portal = "backoffice"
	s.renderIn(s.bo, q, status, page, v)
}

// boProblem renders a failure on a back office path in its own layout.
func (s *Server) boProblem(q *request, status int, message string) bool {
	if q.r.URL.Path != "/bo" && !strings.HasPrefix(q.r.URL.Path, "/bo/") || s.bo == nil {
		return false
	}
	s.renderBO(q, status, "problem", view{Title: "Action impossible", Data: boMessage{Text: message}})
	return true
}

// boAgent asks for a sign-in with the agents' provider, or says there is
// no right here.
func (s *Server) boAgent(q *request) bool {
	who := q.session.Who
	if !q.session.SignedIn() || who.Role == auth.RoleGrantor {
		s.renderBO(q, http.StatusUnauthorized, "signin", view{Title: "Connexion à l'espace équipe",
			Data: boMessage{Providers: s.Providers, Next: q.r.URL.RequestURI()}})
		return false
	}
	if who.Role != auth.RoleBackOffice && who.Role != auth.RoleSupport {
		s.renderBO(q, http.StatusForbidden, "no_right", view{Title: "Accès non autorisé", Data: boMessage{}})
		return false
	}
	return true
}

// boCampaign admits the campaign's team and support; the page is nil when
// an answer was already written.
func (s *Server) boCampaign(q *request, section string) (*boPage, error) {
	if !s.boAgent(q) {
		return nil, nil
	}
	id := q.r.PathValue("campaign")
	c, err := s.svc.BackOfficeCampaign(q.ctx(), q.session.Who, id)
	if err != nil {
		return nil, err
	}
	admin, err := s.svc.CampaignAdmin(q.ctx(), q.session.Who, id)
	if err != nil {
		return nil, err
	}
	return &boPage{Campaign: c, Admin: admin, Section: section}, nil
}

type boCampaigns struct {
	boPage
	List []store.Campaign
}

func (s *Server) boHome(q *request) error {
	if !s.boAgent(q) {
		return nil
	}
	if q.session.Who.Role == auth.RoleSupport {
		s.renderBO(q, http.StatusOK, "campaigns", view{Title: "Espace équipe", Data: boCampaigns{}})
		return nil
	}
	list, err := s.svc.CampaignsOf(q.ctx(), q.session.Who)
	if err != nil {
		return err
	}
	if len(list) == 1 {
		return q.redirect("/bo/" + list[0].ID + "/")
	}
	s.renderBO(q, http.StatusOK, "campaigns", view{Title: "Vos campagnes", Data: boCampaigns{List: list}})
	return nil
}

// statusOrder is the order the dashboard lists the statuses in.
var statusOrder = []match.Status{match.Proposed, match.AwaitingAnswer, match.Accepted, match.ProcurationLinked, match.Completed,
	match.Declined, match.Expired, match.Rejected, match.Cancelled}

type statusCount struct {
	Status match.Status
	N      int
	Width  int
}

type boDashboardView struct {
	boPage
	D        service.Dashboard
	Statuses []statusCount
	// Widths of the départements' bars, by département.
	Widths map[string]int
}

// width is a bar's length, in steps of 5 %, for the CSS classes w-0 to
// w-100 (no inline style: the policy allows the site's styles only).
func width(n, max int) int {
	if max <= 0 || n <= 0 {
		return 0
	}
	w := (n*100/max + 4) / 5 * 5
	return min(max0(w, 5), 100)
}

func max0(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func (s *Server) boDashboard(q *request) error {
	p, err := s.boCampaign(q, "dashboard")
	if p == nil || err != nil {
		return err
	}
	d, err := s.svc.Dashboard(q.ctx(), q.session.Who, p.Campaign.ID)
	if err != nil {
		return err
	}
	v := boDashboardView{boPage: *p, D: d, Widths: map[string]int{}}
	top := 0
	for _, st := range statusOrder {
		top = max0(top, d.Figures.ByStatus[string(st)])
	}
	for _, st := range statusOrder {
		v.Statuses = append(v.Statuses, statusCount{Status: st, N: d.Figures.ByStatus[string(st)], Width: width(d.Figures.ByStatus[string(st)], top)})
	}
	top = 0
	for _, dc := range d.Board.Departements {
		top = max0(top, dc.Requests+dc.Volunteers)
	}
	for _, dc := range d.Board.Departements {
		v.Widths[dc.Departement] = width(dc.Requests+dc.Volunteers, top)
	}
	s.renderBO(q, http.StatusOK, "dashboard", view{Title: "Tableau de bord — " + p.Campaign.Name, Data: v})
	return nil
}

type boMatchingView struct {
	boPage
	Run *service.RunResult
	// Shown is how many proposals the page lists.
	Shown int
}

const proposalsShown = 200

func (s *Server) boMatching(q *request) error {
	p, err := s.boCampaign(q, "matching")
	if p == nil || err != nil {
		return err
	}
	s.renderBO(q, http.StatusOK, "matching", view{Title: "Mise en relation — " + p.Campaign.Name, Data: boMatchingView{boPage: *p}})
	return nil
}

// boRun runs the matching: a dry run shows what it would propose, a real
// run proposes it.
func (s *Server) boRun(q *request) error {
	p, err := s.boCampaign(q, "matching")
	if p == nil || err != nil {
		return err
	}
	dry := q.r.PostFormValue("mode") != "reel"
	res, err := s.svc.RunMatchingWithPeople(q.ctx(), q.session.Who, p.Campaign.ID, dry)
	if err != nil {
		return err
	}
	if !dry {
		msg := fmt.Sprintf("Mise en relation lancée : %d propositions, %d personnes restent à mettre en relation.", len(res.Proposals), res.Unmatched)
		if !p.Campaign.BackOfficeApproval {
			msg = fmt.Sprintf("Mise en relation lancée : %d propositions envoyées aux personnes, %d personnes restent à mettre en relation.",
				len(res.Proposals), res.Unmatched)
			q.flash(msg)
			return q.redirect(p.Base() + "/mises-en-relation?statut=awaiting_answer")
		}
		q.flash(msg)
		return q.redirect(p.Base() + "/propositions")
	}
	title := "Simulation — " + p.Campaign.Name
	s.renderBO(q, http.StatusOK, "matching", view{Title: title, Data: boMatchingView{boPage: *p, Run: &res,
		Shown: min(len(res.Proposals), proposalsShown)}})
	return nil
}

type boListView struct {
	boPage
	Lines    []store.MatchLine
	Total    int
	Status   match.Status
	Statuses []match.Status
	// Departement narrows the list; Departements are those of the
	// campaign's sign-ups, for the filter.
	Departement  string
	Departements []deptOption
	// Next is the next page's address, empty on the last one; First tells
	// whether this is the first page.
	Next  string
	First bool
}

type deptOption struct{ Code, Label string }

// listLimit is a page of a list: the lists go on page after page.
const listLimit = 200

// listPage reads the list's filters and its page from the query, and the
// next page's address from the cursor the store answered.
func listPage(q *request, status match.Status, departements map[string]int) (store.MatchFilter, []deptOption) {
	f := store.MatchFilter{Status: string(status), Cursor: q.r.URL.Query().Get("apres"), Limit: listLimit}
	opts := make([]deptOption, 0, len(departements))
	for code := range departements {
		opts = append(opts, deptOption{Code: code, Label: geo.Departement(code)})
		if code == q.r.URL.Query().Get("departement") {
			f.Departement = code
		}
	}
	slices.SortFunc(opts, func(a, b deptOption) int { return strings.Compare(a.Code, b.Code) })
	return f, opts
}

func nextPage(q *request, next string) string {
	if next == "" {
		return ""
	}
	v := q.r.URL.Query()
	v.Set("apres", next)
	return q.r.URL.Path + "?" + v.Encode()
}

func (s *Server) boProposals(q *request) error {
	return s.renderProposals(q, newForm(), http.StatusOK)
}

func (s *Server) renderProposals(q *request, f form, status int) error {
	p, err := s.boCampaign(q, "proposals")
	if p == nil || err != nil {
		return err
	}
	d, err := s.svc.Figures(q.ctx(), q.session.Who, p.Campaign.ID)
	if err != nil {
		return err
	}
	filter, _ := listPage(q, match.Proposed, nil)
	lines, next, err := s.svc.MatchLines(q.ctx(), q.session.Who, p.Campaign.ID, filter)
	if err != nil {
		return err
	}
	s.renderBO(q, status, "proposals", view{Title: "Propositions à approuver — " + p.Campaign.Name, Form: f,
		Data: boListView{boPage: *p, Lines: lines, Total: d.ByStatus[string(match.Proposed)], Next: nextPage(q, next), First: filter.Cursor == ""}})
	return nil
}

// boBulk starts a bulk approval in the background and shows its progress.
func (s *Server) boBulk(q *request) error {
	p, err := s.boCampaign(q, "proposals")
	if p == nil || err != nil {
		return err
	}
	f := formOf(q.r, "ids", "action", "scope")
	outcome := map[string]string{"approuver": "approved", "rejeter": "rejected"}[f.Value("action")]
	job, err := s.svc.StartBulkApproval(q.ctx(), q.session.Who, p.Campaign.ID, f.Many["ids"], f.Value("scope") == "toutes", outcome)
	if err = f.fromError(err, nil); err != nil {
		return err
	}
	if len(f.Order) > 0 {
		f.Labels["ids"] = "Propositions"
		return s.renderProposals(q, f, http.StatusUnprocessableEntity)
	}
	return q.redirect(p.Base() + "/traitements/" + job)
}

type boJobView struct {
	boPage
	Job      string
	P        campaign.BulkProgress
	Percent  int
	Auto     bool
	Approved bool
}

// boJob shows a bulk approval's progress; while it runs, the page reloads
// itself every few seconds (a Refresh header, no script), unless the
// person stops it.
func (s *Server) boJob(q *request) error {
	p, err := s.boCampaign(q, "proposals")
	if p == nil || err != nil {
		return err
	}
	job := q.r.PathValue("job")
	prog, err := s.svc.BulkApproval(q.ctx(), q.session.Who, p.Campaign.ID, job)
	if err != nil {
		return err
	}
	v := boJobView{boPage: *p, Job: job, P: prog, Auto: q.r.URL.Query().Get("auto") != "non", Approved: prog.Outcome == "approved"}
	if prog.Total > 0 {
		v.Percent = prog.Done * 100 / prog.Total
	}
	if !prog.Finished && v.Auto {
		q.w.Header().Set("Refresh", "2")
	}
	title := "Traitement en cours"
	if prog.Finished {
		title = "Traitement terminé"
	}
	s.renderBO(q, http.StatusOK, "job", view{Title: title + " — " + p.Campaign.Name, Data: v})
	return nil
}

func (s *Server) boMatches(q *request) error {
	p, err := s.boCampaign(q, "matches")
	if p == nil || err != nil {
		return err
	}
	st := match.Status(q.r.URL.Query().Get("statut"))
	known := st == ""
	for _, x := range statusOrder {
		known = known || x == st
	}
	if !known {
		st = ""
	}
	d, err := s.svc.Figures(q.ctx(), q.session.Who, p.Campaign.ID)
	if err != nil {
		return err
	}
	filter, depts := listPage(q, st, d.ByDepartement)
	lines, next, err := s.svc.MatchLines(q.ctx(), q.session.Who, p.Campaign.ID, filter)
	if err != nil {
		return err
	}
	s.renderBO(q, http.StatusOK, "matches", view{Title: "Mises en relation — " + p.Campaign.Name,
		Data: boListView{boPage: *p, Lines: lines, Status: st, Statuses: statusOrder, Departement: filter.Departement, Departements: depts,
			Next: nextPage(q, next), First: filter.Cursor == ""}})
	return nil
}

type boMatchView struct {
	boPage
	M service.MatchDetail
}

func (s *Server) boMatch(q *request) error {
	p, err := s.boCampaign(q, "matches")
	if p == nil || err != nil {
		return err
	}
	d, err := s.svc.MatchDetail(q.ctx(), q.session.Who, p.Campaign.ID, q.r.PathValue("match"))
	if err != nil {
		return err
	}
	s.renderBO(q, http.StatusOK, "match", view{Title: "Mise en relation " + d.Line.ID, Data: boMatchView{boPage: *p, M: d}})
	return nil
}

func (s *Server) boCancel(q *request) error {
	p, err := s.boCampaign(q, "matches")
	if p == nil || err != nil {
		return err
	}
	id := q.r.PathValue("match")
	m, err := s.svc.CancelMatch(q.ctx(), q.session.Who, p.Campaign.ID, id)
	if err != nil {
		return err
	}
	if m.Status == match.Cancelled {
		q.flash("Mise en relation annulée : les deux personnes en sont informées par courriel.")
	} else {
		q.flash("Annulation demandée : elle apparaîtra dans quelques instants.")
	}
	return q.redirect(p.Base() + "/mises-en-relation/" + id)
}

type boPeopleView struct {
	boPage
	Q        string
	Searched bool
	Found    []service.PersonFound
	Communes map[string]string
	Stations map[string]string
}

func (s *Server) boPeople(q *request) error {
	p, err := s.boCampaign(q, "people")
	if p == nil || err != nil {
		return err
	}
	f := newForm()
	v := boPeopleView{boPage: *p, Q: strings.TrimSpace(q.r.URL.Query().Get("q"))}
	f.Values["q"] = v.Q
	status := http.StatusOK
	if v.Q != "" {
		found, err := s.svc.SearchPeople(q.ctx(), q.session.Who, p.Campaign.ID, v.Q)
		if err = f.fromError(err, map[string]string{"query.q": "q"}); err != nil {
			return err
		}
		if len(f.Order) > 0 {
			status = http.StatusUnprocessableEntity
		}
		v.Found, v.Searched = found, len(f.Order) == 0
		v.Communes = map[string]string{}
		var codes []string
		for _, p := range found {
			v.Communes[p.Signup.CommuneCode] = s.svc.CommuneName(q.ctx(), p.Signup.CommuneCode)
			codes = append(codes, p.Signup.PollingStation)
		}
		v.Stations = s.svc.StationLabels(q.ctx(), codes...)
	}
	s.renderBO(q, status, "people", view{Title: "Rechercher une personne — " + p.Campaign.Name, Form: f, Data: v})
	return nil
}

type boCandidatesView struct {
	boPage
	Request    store.Signup
	Candidates []service.Candidate
	Communes   map[string]string
	Stations   map[string]string
}

// boCandidates shows the volunteers a requester could be paired with by
// hand, nearest first.
func (s *Server) boCandidates(q *request) error {
	return s.renderCandidates(q, newForm(), http.StatusOK)
}

func (s *Server) renderCandidates(q *request, f form, status int) error {
	p, err := s.boCampaign(q, "people")
	if p == nil || err != nil {
		return err
	}
	req, candidates, err := s.svc.Candidates(q.ctx(), q.session.Who, p.Campaign.ID, q.r.PathValue("request"))
	if e, ok := errs.As(err); ok && e.Kind == errs.KindInvalid {
		return errs.NotFound("Cette demande n'attend pas de mise en relation.")
	}
	if err != nil {
		return err
	}
	v := boCandidatesView{boPage: *p, Request: req, Candidates: candidates, Communes: map[string]string{}}
	v.Communes[req.CommuneCode] = s.svc.CommuneName(q.ctx(), req.CommuneCode)
	codes := []string{req.PollingStation}
	for _, c := range candidates {
		v.Communes[c.Volunteer.CommuneCode] = s.svc.CommuneName(q.ctx(), c.Volunteer.CommuneCode)
		codes = append(codes, c.Volunteer.PollingStation)
	}
	v.Stations = s.svc.StationLabels(q.ctx(), codes...)
	s.renderBO(q, status, "candidates", view{Title: "Proposer un volontaire — " + p.Campaign.Name, Form: f, Data: v})
	return nil
}

// boPropose pairs the requester with the chosen volunteer.
func (s *Server) boPropose(q *request) error {
	p, err := s.boCampaign(q, "people")
	if p == nil || err != nil {
		return err
	}
	f := formOf(q.r, "volunteer_id")
	m, err := s.svc.ProposeMatch(q.ctx(), q.session.Who, p.Campaign.ID, q.r.PathValue("request"), f.Value("volunteer_id"))
	if err = f.fromError(err, nil); err != nil {
		return err
	}
	if len(f.Order) > 0 {
		f.Labels["volunteer_id"] = "Volontaire"
		return s.renderCandidates(q, f, http.StatusUnprocessableEntity)
	}
	return q.redirect(p.Base() + "/mises-en-relation/" + m.ID)
}

// csvCell keeps a spreadsheet from reading a cell as a formula.
func csvCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

func (s *Server) boExport(q *request) error {
	p, err := s.boCampaign(q, "export")
	if p == nil || err != nil {
		return err
	}
	q.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	q.w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="mises-en-relation-%s-%s.csv"`, p.Campaign.ID,
		time.Now().Format("2006-01-02")))
	w := csv.NewWriter(q.w)
	_ = w.Write([]string{"id", "statut", "proximite", "tours", "demandeur", "demandeur_courriel", "demandeur_commune", "departement",
		"volontaire", "volontaire_courriel", "volontaire_commune", "echeance_reponse", "reference_procuration", "motif_fin", "creee_le",
		"mise_a_jour_le"})
	opt := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	str := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	err = s.svc.ExportMatches(q.ctx(), q.session.Who, p.Campaign.ID, func(l store.MatchLine) error {
		rounds := make([]string, len(l.Rounds))
		for i, r := range l.Rounds {
			rounds[i] = strconv.Itoa(int(r))
		}
		row := []string{l.ID, string(l.Status), strconv.Itoa(int(l.Tier)), strings.Join(rounds, "+"), l.Requester, l.RequesterEmail,
			l.RequesterCommune, l.Departement, l.Volunteer, l.VolunteerEmail, l.VolunteerCommune, opt(l.AnswerDeadline),
			str(l.ProcurationReference), str(l.EndReason), l.CreatedAt.UTC().Format(time.RFC3339), l.UpdatedAt.UTC().Format(time.RFC3339)}
		for i := range row {
			row[i] = csvCell(row[i])
		}
		return w.Write(row)
	})
	w.Flush()
	return err
}

type boSettingsView struct {
	boPage
}

func (s *Server) settingsForm(c store.Campaign) form {
	f := newForm()
	f.Values["answer_window_hours"] = strconv.Itoa(int(c.AnswerWindow.Hours()))
	f.Values["retention_days"] = strconv.Itoa(int(c.Retention.Hours() / 24))
	f.Values["matching_every_minutes"] = strconv.Itoa(int(c.MatchingEvery.Minutes()))
	days := make([]string, len(c.LinkReminderDays))
	for i, d := range c.LinkReminderDays {
		days[i] = strconv.Itoa(int(d))
	}
	f.Values["link_reminder_days"] = strings.Join(days, ", ")
	if c.BackOfficeApproval {
		f.Values["back_office_approval"] = "oui"
	}
	return f
}

func (s *Server) boSettings(q *request) error {
	p, err := s.boCampaign(q, "settings")
	if p == nil || err != nil {
		return err
	}
	if !p.Admin {
		return errs.Forbidden("Seul un administrateur de la campagne modifie ses réglages.")
	}
	s.renderBO(q, http.StatusOK, "settings", view{Title: "Réglages — " + p.Campaign.Name, Form: s.settingsForm(p.Campaign),
		Data: boSettingsView{boPage: *p}})
	return nil
}

func (s *Server) boSaveSettings(q *request) error {
	p, err := s.boCampaign(q, "settings")
	if p == nil || err != nil {
		return err
	}
	f := formOf(q.r, "answer_window_hours", "link_reminder_days", "matching_every_minutes", "retention_days", "back_office_approval")
	number := func(name string) int {
		n, err := strconv.Atoi(f.Value(name))
		if err != nil {
			f.add(name, "nombre entier attendu")
		}
		return n
	}
	c := service.SettingsChange{AnswerWindowHours: number("answer_window_hours"), RetentionDays: number("retention_days"),
		MatchingEveryMinutes: number("matching_every_minutes"), BackOfficeApproval: f.Value("back_office_approval") == "oui"}
	for _, d := range strings.FieldsFunc(f.Value("link_reminder_days"), func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
		n, err := strconv.Atoi(d)
		if err != nil {
			f.add("link_reminder_days", "nombres de jours séparés par des virgules attendus")
			break
		}
		c.LinkReminderDays = append(c.LinkReminderDays, n)
	}
	if len(f.Order) == 0 {
		_, err = s.svc.UpdateCampaignSettings(q.ctx(), q.session.Who, p.Campaign.ID, c)
		if err = f.fromError(err, nil); err != nil {
			return err
		}
	}
	if len(f.Order) > 0 {
		s.renderBO(q, http.StatusUnprocessableEntity, "settings", view{Title: "Réglages — " + p.Campaign.Name, Form: f,
			Data: boSettingsView{boPage: *p}})
		return nil
	}
	q.flash("Réglages enregistrés.")
	return q.redirect(p.Base() + "/reglages")
}

type boTeamView struct {
	boPage
	Rights []store.Right
}

func (s *Server) boTeam(q *request) error {
	return s.renderTeam(q, newForm(), http.StatusOK)
}

func (s *Server) renderTeam(q *request, f form, status int) error {
	p, err := s.boCampaign(q, "team")
	if p == nil || err != nil {
		return err
	}
	rights, err := s.svc.CampaignTeam(q.ctx(), q.session.Who, p.Campaign.ID)
	if err != nil {
		return err
	}
	s.renderBO(q, status, "team", view{Title: "Équipe — " + p.Campaign.Name, Form: f, Data: boTeamView{boPage: *p, Rights: rights}})
	return nil
}

func (s *Server) boInvite(q *request) error {
	p, err := s.boCampaign(q, "team")
	if p == nil || err != nil {
		return err
	}
	f := formOf(q.r, "email", "admin")
	_, err = s.svc.GrantRight(q.ctx(), q.session.Who, service.Grant{Email: f.Value("email"), Role: auth.RoleBackOffice,
		Campaigns: []string{p.Campaign.ID}, Admin: f.Value("admin") == "oui"})
	if e, ok := errs.As(err); ok && e.Kind == errs.KindInvalid {
		for _, fe := range e.Fields {
			if strings.Contains(fe.Location, "campaigns") {
				// This campaign is not theirs to administer.
				return errs.Forbidden("Seul un administrateur de la campagne invite son équipe.")
			}
		}
	}
	if err = f.fromError(err, nil); err != nil {
		return err
	}
	if len(f.Order) > 0 {
		return s.renderTeam(q, f, http.StatusUnprocessableEntity)
	}
	q.flash(f.Value("email") + " fait partie de l'équipe : son accès s'ouvre à sa connexion avec ProConnect.")
	return q.redirect(p.Base() + "/equipe")
}

func (s *Server) boRemove(q *request) error {
	p, err := s.boCampaign(q, "team")
	if p == nil || err != nil {
		return err
	}
	id, _ := strconv.ParseInt(q.r.PathValue("id"), 10, 64)
	rights, err := s.svc.CampaignTeam(q.ctx(), q.session.Who, p.Campaign.ID)
	if err != nil {
		return err
	}
	found := false
	for _, r := range rights {
		found = found || r.ID == id
	}
	if !found {
		return errs.NotFound("Droit introuvable.")
	}
	if err := s.svc.RevokeRight(q.ctx(), q.session.Who, id); err != nil {
		return err
	}
	q.flash("Accès retiré : il cesse à la prochaine page de la personne.")
	return q.redirect(p.Base() + "/equipe")
}

type navItem struct {
	Campaign, Path, Label string
	Current               bool
}

type linesArg struct {
	Campaign, Caption, When string
	Lines                   []store.MatchLine
}

// CurrentSection names the page's menu item.
func (b boPage) CurrentSection() string { return b.Section }

// boFuncs are the back office templates' own helpers.
var boFuncs = template.FuncMap{
	"navItem": func(v view, section, path, label string) navItem {
		cur, _ := v.Data.(interface{ CurrentSection() string })
		id := ""
		if c, ok := v.Data.(interface{ Base() string }); ok {
			id = strings.TrimPrefix(c.Base(), "/bo/")
		}
		return navItem{Campaign: id, Path: path, Label: label, Current: cur != nil && cur.CurrentSection() == section}
	},
	"linesOf": func(campaign, caption, when string, lines []store.MatchLine) linesArg {
		return linesArg{Campaign: campaign, Caption: caption, When: when, Lines: lines}
	},
	"matchStatusOf": func(st any) string { return match.Status(fmt.Sprint(st)).French() },
	"departement":   geo.Departement,
	"tier": func(t any) string {
		n, _ := strconv.Atoi(fmt.Sprint(t))
		return []string{"même bureau de vote", "même commune", "même intercommunalité", "même arrondissement", "même département"}[min(max0(n, 0), 4)]
	},
	"rounds16": func(rs []int16) string {
		var out []string
		for _, r := range rs {
			out = append(out, map[int16]string{1: "1er tour", 2: "2d tour"}[r])
		}
		return strings.Join(out, ", ")
	},
	"roundsInt": func(rs []int) string {
		var out []string
		for _, r := range rs {
			out = append(out, map[int]string{1: "1er tour", 2: "2d tour"}[r])
		}
		return strings.Join(out, ", ")
	},
	"instantp": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return strings.ReplaceAll(french.Instant(*t), " h ", "\u00a0h\u00a0")
	},
	"sideName": func(side string) string {
		return map[string]string{store.SideRequest: "demande une procuration", store.SideVolunteer: "volontaire"}[side]
	},
	"signupStatus": func(st string) string {
		return map[string]string{"unconfirmed": "adresse non confirmée", "pool": "inscription confirmée", "withdrawn": "retiré(e)",
			"deleted": "supprimé(e)"}[st]
	},
	"minutes": func(d time.Duration) int { return int(d.Minutes()) },
	"hours":   func(d time.Duration) int { return int(d.Hours()) },
	"int32s": func(ds []int32) string {
		var out []string
		for _, d := range ds {
			out = append(out, strconv.Itoa(int(d)))
		}
		return strings.Join(out, ", ")
	},
}

// parseBackOffice builds the back office's pages: its own layout, never
// the portals'.
func parseBackOffice() (map[string]*template.Template, error) {
	return parsePages("templates/backoffice", boFuncs)
}
