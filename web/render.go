package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/internal/errs"
	"github.com/procurations/procuration/internal/french"
	"github.com/procurations/procuration/internal/logging"
	"github.com/procurations/procuration/internal/match"
	"github.com/procurations/procuration/internal/service"
)

// view is what every page template receives.
type view struct {
	Title string
	// Portal is the portal the page belongs to: its header and menu.
	Portal string
	Who    auth.Claims
	CSRF   string
	Flash  string
	// Form is a submitted form: the values typed, kept, and the errors,
	// by field name (the API's names: proxy.nne, validity.rounds...).
	Form form
	Data any
	// Main is the page's own part, rendered.
	Main template.HTML
	// Path is the page's, for the menu's current item.
	Path string
	// Site is the campaign whose public site the page belongs to.
	Site *service.Site
}

// form is a form's state between a submission and its page.
type form struct {
	Values map[string]string
	Many   map[string][]string
	Errors map[string]string
	// Labels are the fields' labels, as the page wrote them: the summary
	// names each field.
	Labels map[string]string
	// Order lists the fields in error in the order of the page, for the
	// summary at the top.
	Order []string
	// Refused is why the action itself was refused while every field was
	// right (a state or a rule, such as the L73 cap).
	Refused string
	// fields are the form's fields in the order of the page.
	fields []string
}

func newForm() form {
	return form{Values: map[string]string{}, Many: map[string][]string{}, Errors: map[string]string{}, Labels: map[string]string{}}
}

func (f form) Has(name string) bool { return f.Errors[name] != "" }

// Value is what the person typed, to show again.
func (f form) Value(name string) string { return f.Values[name] }

// Checked reports whether a checkbox or radio of that value was chosen.
func (f form) Checked(name, value string) bool {
	for _, v := range f.Many[name] {
		if v == value {
			return true
		}
	}
	return f.Values[name] == value
}

// fromError puts a use case's field errors on the form; other failures
// come back.
func (f *form) fromError(err error, alias map[string]string) error {
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.KindInvalid {
		return err
	}
	for _, fe := range e.Fields {
		name := strings.TrimPrefix(fe.Location, "body.")
		if a, ok := alias[name]; ok {
			name = a
		}
		f.add(name, fe.Message)
	}
	return nil
}

func (f *form) add(name, msg string) {
	// The API's wording of a date is not what a date field shows.
	if msg == "date AAAA-MM-JJ attendue" {
		msg = "indiquez une date complète (jour, mois, année)"
	}
	if f.Errors[name] == "" {
		f.Order = append(f.Order, name)
		// The summary follows the page, whatever order the rules ran in.
		slices.SortStableFunc(f.Order, func(a, b string) int { return f.position(a) - f.position(b) })
	}
	f.Errors[name] = msg
}

// position is where a field sits on the page; fields it does not know
// come after the others, in the order they came.
func (f *form) position(name string) int {
	for i, n := range f.fields {
		if n == name || strings.HasPrefix(name, n+".") {
			return i
		}
	}
	return len(f.fields)
}

// id makes a field name an HTML id: proxy.nne → proxy-nne.
func id(name string) string { return strings.NewReplacer(".", "-", "[", "-", "]", "").Replace(name) }

var funcs = template.FuncMap{
	// instant keeps "14 h 05" on one line.
	"instant": func(t time.Time) string { return strings.ReplaceAll(french.Instant(t), " h ", "\u00a0h\u00a0") },
	// badge colours a status: done well, done badly, ended, waiting.
	"badge": func(st any) string {
		switch dossier.Status(fmt.Sprint(st)) {
		case dossier.Validated:
			return "fr-badge--success"
		case dossier.Refused, dossier.Invalidated:
			return "fr-badge--error"
		case dossier.Cancelled, dossier.Expired:
			return ""
		}
		return "fr-badge--info"
	},
	// sentence capitalises the first letter.
	"sentence": func(s string) string {
		r, size := utf8.DecodeRuneInString(s)
		return string(unicode.ToUpper(r)) + s[size:]
	},
	"role": func(role string) string {
		return map[string]string{auth.RolePolice: "police ou gendarmerie", auth.RoleTownHall: "agent de mairie", auth.RoleSupport: "support",
			auth.RoleBackOffice: "équipe de campagne"}[role]
	},
	"date":     french.Date,
	"day":      french.Day,
	"duration": french.Duration,
	"id":       id,
	"status": func(s any) string {
		return dossier.Status(fmt.Sprint(s)).French()
	},
	"upper": strings.ToUpper,
	"join":  strings.Join,
	"deref": func(t *time.Time) time.Time {
		if t == nil {
			return time.Time{}
		}
		return *t
	},
	"add": func(a, b int) int { return a + b },
	// dayOf writes a YYYY-MM-DD date as "dimanche 11 avril 2027".
	"dayOf": func(s string) string {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return s
		}
		return french.Day(d)
	},
	// dateOf writes a YYYY-MM-DD date as "12 avril 1985".
	"dateOf": func(s string) string {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return s
		}
		return french.Date(d)
	},
	"input": newInput,
	// label records the label of a field not written with input, and
	// writes it; labelled only records it.
	"label": func(f form, name, label string) string {
		f.Labels[name] = label
		return label
	},
	"labelled": func(f form, name, label string) string {
		f.Labels[name] = label
		return ""
	},
	// initials stand in for a campaign's logo: "Plan Procu 2027" → "PP".
	"initials": func(name string) string {
		var out []rune
		for _, w := range strings.Fields(name) {
			if r, _ := utf8.DecodeRuneInString(w); unicode.IsLetter(r) && len(out) < 2 {
				out = append(out, unicode.ToUpper(r))
			}
		}
		return string(out)
	},
	"days":        func(d time.Duration) int { return int(d.Hours() / 24) },
	"matchStatus": func(st match.Status) string { return st.French() },
	"deref2": func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	},
	// next says what a match waits for, to the party reading it.
	"next": func(st match.Status, party string) string {
		requester := party == match.Requester
		switch st {
		case match.Proposed, match.AwaitingAnswer:
			return "Chacun de vous deux accepte ou décline la mise en relation ; un courriel vous dira la suite."
		case match.Accepted:
			if requester {
				return "Faites votre demande de procuration, puis indiquez-nous sa référence ci-dessus."
			}
			return "La personne fait sa demande de procuration à votre nom ; nous vous écrirons quand la mairie l'aura validée."
		case match.ProcurationLinked:
			return "La demande de procuration suit son cours (police ou gendarmerie, puis mairie) : nous vous écrirons dès qu'elle sera validée."
		case match.Completed:
			if requester {
				return "La procuration est validée : votre mandataire votera pour vous. Pensez à le lui confirmer."
			}
			return "La procuration est validée : le jour du scrutin, votez au bureau de vote indiqué ci-dessus avec votre pièce d'identité."
		}
		return "Cette mise en relation est terminée. Si vous restez inscrit(e), nous vous proposerons une autre personne dès que possible."
	},
	// once names a form's filling, so that sending it twice files once.
	"once": func() string { return randomToken(16) },
}

// input is a text field of a form, for the "field" template:
// {{template "field" (input .Form "proxy.nne" "Numéro d'électeur" "hint=8 ou 9 chiffres" "mode=numeric" "required")}}
type input struct {
	Form                                     form
	Name, Label, Hint, Type, Auto, Inputmode string
	Required, Focus                          bool
}

func newInput(f form, name, label string, opts ...string) input {
	f.Labels[name] = label
	in := input{Form: f, Name: name, Label: label}
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "hint":
			in.Hint = v
		case "type":
			in.Type = v
		case "auto":
			in.Auto = v
		case "mode":
			in.Inputmode = v
		case "required":
			in.Required = true
		case "focus":
			in.Focus = true
		}
	}
	return in
}

// parsePages builds one template per page of dir: the layout of dir and
// the page's file, with the shared functions and more.
func parsePages(dir string, more ...template.FuncMap) (map[string]*template.Template, error) {
	layout := template.New("layout").Funcs(funcs)
	for _, m := range more {
		layout = layout.Funcs(m)
	}
	layout, err := layout.ParseFS(files, dir+"/layout/*.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(files, dir+"/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		t, err := template.Must(layout.Clone()).ParseFS(files, name)
		if err != nil {
			return nil, err
		}
		pages[strings.TrimSuffix(path.Base(name), ".html")] = t
	}
	return pages, nil
}

// render writes a page with the layout of its portal.
func (s *Server) render(q *request, status int, page string, v view) {
	s.renderIn(s.pages, q, status, page, v)
}

// renderIn writes a page of a set: the portals' or the campaign sites'.
func (s *Server) renderIn(pages map[string]*template.Template, q *request, status int, page string, v view) {
	v.Who, v.CSRF = q.session.Who, q.session.CSRF
	if v.Portal == "" {
		v.Portal = portalOf(q.r.URL.Path)
		if v.Portal == "support" && q.session.Who.Role == auth.RoleTownHall {
			v.Portal = "mairie"
		}
	}
	v.Path = q.r.URL.Path
	if v.Form.Values == nil {
		v.Form = newForm()
	}
	if q.session.Flash != "" {
		v.Flash, q.session.Flash, q.session.dirty = q.session.Flash, "", true
	}
	if err := s.sessions.save(q.ctx(), q.w, q.session); err != nil {
		logging.Ctx(q.ctx(), s.Log).Error("session", zap.Error(err))
	}
	t := pages[page]
	var b bytes.Buffer
	if t == nil {
		logging.Ctx(q.ctx(), s.Log).Error("no such page", zap.String("page", page))
		http.Error(q.w, "page", http.StatusInternalServerError)
		return
	}
	// The page's main part first, so that the error summary above it
	// knows the labels of its fields.
	var main bytes.Buffer
	if err := t.ExecuteTemplate(&main, "main", v); err != nil {
		logging.Ctx(q.ctx(), s.Log).Error("template", zap.String("page", page), zap.Error(err))
		http.Error(q.w, "page", http.StatusInternalServerError)
		return
	}
	v.Main = template.HTML(main.String())
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		logging.Ctx(q.ctx(), s.Log).Error("template", zap.String("page", page), zap.Error(err))
		http.Error(q.w, "page", http.StatusInternalServerError)
		return
	}
	q.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	q.w.WriteHeader(status)
	_, _ = q.w.Write(b.Bytes())
}

// portalOf names the portal of a path, for the header.
func portalOf(p string) string {
	switch {
	case strings.HasPrefix(p, "/police"):
		return "police"
	case strings.HasPrefix(p, "/mairie"):
		return "mairie"
	case strings.HasPrefix(p, "/support"):
		return "support"
	}
	return "grantor"
}
