package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/procurations/procuration/internal/auth"
)

// Portals measures the portals' main pages under many signed-in people at
// once, each beside the JSON API call that does the same work, in the same
// run: a grantor's request and the page that follows it, an officer's
// dossier, a town hall's queue, the home page. People sign in through the
// development providers, as in a browser: the stack must run with
// DEV_ISSUER=true (make run does).
type Portals struct {
	APIURL string
	Issuer *auth.Issuer
	// Users are the people signed in at once; Views, the times each opens
	// each page.
	Users, Views int
	Out          io.Writer
}

// pagePair is a page and the API call it is measured against.
type pagePair struct {
	name      string
	page, api func(u *benchUser) (int, error)
}

type benchUser struct {
	grantor, police, townHall *browser
	grantorToken, policeToken string
	townHallToken             string
	pageRef, apiRef           string
}

func (b *Portals) Run(ctx context.Context) error {
	if b.Users <= 0 {
		b.Users = 50
	}
	if b.Views <= 0 {
		b.Views = 20
	}
	http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost = b.Users * 8
	l := &Lifecycle{APIURL: b.APIURL, Issuer: b.Issuer, Dossiers: 2 * b.Users}
	base, err := l.importVoters(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.Out, "portals: %d people signed in at once, each page %d times each\n", b.Users, b.Views)
	// Support grants every benchmark officer and town hall agent a right, as
	// on the support page; their reads are limited per agent.
	support := newBrowser(b.APIURL)
	if err := support.signIn(ctx, auth.DevProConnect, map[string]string{"person": "3"}); err != nil {
		return fmt.Errorf("support sign-in: %w", err)
	}
	for i := range b.Users {
		for _, grant := range []map[string]string{
			{"email": agentEmail("opj", base, i), "role": auth.RolePolice, "unit": "Commissariat de test", "rank": "brigadier"},
			{"email": agentEmail("mairie", base, i), "role": auth.RoleTownHall, "communes": "75056"},
		} {
			if err := support.submit(ctx, "/support/droits", "/support/droits", grant); err != nil {
				return fmt.Errorf("granting a right: %w", err)
			}
		}
	}
	defer b.revoke(ctx, support, base)
	requests := map[string][]time.Duration{}
	var failures []string
	users := make([]*benchUser, b.Users)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range b.Users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, page, api, err := b.setUp(ctx, base, i)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failures = append(failures, err.Error())
				return
			}
			users[i] = u
			requests["portal"] = append(requests["portal"], page)
			requests["api"] = append(requests["api"], api)
		}()
	}
	wg.Wait()
	if len(failures) > 0 {
		return fmt.Errorf("%d of %d people could not start: %s", len(failures), b.Users, failures[0])
	}

	pairs := []pagePair{
		{"accueil", func(u *benchUser) (int, error) { return u.grantor.get(ctx, "/") },
			func(u *benchUser) (int, error) { return u.grantor.api(ctx, "/v1/elections", u.grantorToken) }},
		{"suivi du dossier (mandant)", func(u *benchUser) (int, error) { return u.grantor.get(ctx, "/mes-procurations/"+u.pageRef) },
			func(u *benchUser) (int, error) {
				return u.grantor.api(ctx, "/v1/procurations/"+u.apiRef, u.grantorToken)
			}},
		{"dossier (police)", func(u *benchUser) (int, error) { return u.police.get(ctx, "/police/dossier?reference="+u.pageRef) },
			func(u *benchUser) (int, error) { return u.police.api(ctx, "/v1/procurations/"+u.apiRef, u.policeToken) }},
		{"file de la mairie", func(u *benchUser) (int, error) {
			return u.townHall.get(ctx, "/mairie?commune=75056&statut=awaiting_police")
		},
			func(u *benchUser) (int, error) {
				return u.townHall.api(ctx, "/v1/communes/75056/procurations?status=awaiting_police", u.townHallToken)
			}},
	}
	type result struct {
		page, api             []time.Duration
		pageErrors, apiErrors int
	}
	results := make([]result, len(pairs))
	for pi, pair := range pairs {
		var wg sync.WaitGroup
		for _, u := range users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for v := range b.Views {
					// Page and API alternate, so that both meet the same load.
					type call struct {
						fn   func(*benchUser) (int, error)
						page bool
					}
					calls := []call{{pair.page, true}, {pair.api, false}}
					if v%2 == 1 {
						calls[0], calls[1] = calls[1], calls[0]
					}
					for _, c := range calls {
						start := time.Now()
						status, err := c.fn(u)
						d := time.Since(start)
						failed := err != nil || status != 200
						mu.Lock()
						r := &results[pi]
						switch {
						case c.page && failed:
							r.pageErrors++
						case c.page:
							r.page = append(r.page, d)
						case failed:
							r.apiErrors++
						default:
							r.api = append(r.api, d)
						}
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
	}

	fmt.Fprintf(b.Out, "\n%-28s %9s %9s %9s %9s %7s %7s %7s\n", "page", "page p50", "page p99", "API p50", "API p99", "p50 ×", "p99 ×", "errors")
	row := func(name string, page, api []time.Duration, errs int) {
		pp50, pp99, ap50, ap99 := percentile(page, 0.5), percentile(page, 0.99), percentile(api, 0.5), percentile(api, 0.99)
		fmt.Fprintf(b.Out, "%-28s %9s %9s %9s %9s %7.2f %7.2f %7d\n", name, pp50.Round(10*time.Microsecond), pp99.Round(10*time.Microsecond),
			ap50.Round(10*time.Microsecond), ap99.Round(10*time.Microsecond), ratio(pp50, ap50), ratio(pp99, ap99), errs)
	}
	row("demande (envoi du formulaire)", requests["portal"], requests["api"], 0)
	for i, pair := range pairs {
		row(pair.name, results[i].page, results[i].api, results[i].pageErrors+results[i].apiErrors)
	}
	fmt.Fprintf(b.Out, "\n× is the page's time over the API call's, measured in the same run (target: 1.5 at most).\n")
	fmt.Fprintln(b.Out, "cancelling the benchmark's dossiers...")
	for _, u := range users {
		_ = u.grantor.cancel(ctx, u.pageRef)
		_, _, _ = l.call(ctx, "POST", "/v1/procurations/"+u.apiRef+"/cancel", u.grantorToken, "application/json", []byte("{}"))
	}
	return nil
}

// setUp signs person i in on the three portals, files their dossier
// through the request form and another voter's through the API, and says
// how long each filing took.
func (b *Portals) setUp(ctx context.Context, base, i int) (*benchUser, time.Duration, time.Duration, error) {
	u := &benchUser{grantor: newBrowser(b.APIURL), police: newBrowser(b.APIURL), townHall: newBrowser(b.APIURL)}
	pageGrantor, pageProxy, apiGrantor, apiProxy := base+4*i, base+4*i+1, base+4*i+2, base+4*i+3
	if err := u.grantor.signIn(ctx, auth.DevFranceConnect, map[string]string{"given_name": benchGivenName(4 * i),
		"family_name": "BENCH", "birthdate": "1980-01-01", "gender": "female", "email": fmt.Sprintf("bench-%d@example.fr", pageGrantor)}); err != nil {
		return nil, 0, 0, fmt.Errorf("grantor sign-in: %w", err)
	}
	if err := u.police.signIn(ctx, auth.DevProConnect, map[string]string{"given_name": "Agent", "usual_name": "BENCH",
		"email": agentEmail("opj", base, i)}); err != nil {
		return nil, 0, 0, fmt.Errorf("officer sign-in: %w", err)
	}
	if err := u.townHall.signIn(ctx, auth.DevProConnect, map[string]string{"given_name": "Agent", "usual_name": "BENCH",
		"email": agentEmail("mairie", base, i)}); err != nil {
		return nil, 0, 0, fmt.Errorf("town hall sign-in: %w", err)
	}
	form, err := u.grantor.form(ctx, "/demande")
	if err != nil {
		return nil, 0, 0, err
	}
	form.Set("grantor.nne", fmt.Sprint(pageGrantor))
	form.Set("grantor.commune_code", "75056")
	form.Set("proxy.by", "nne")
	form.Set("proxy.nne", fmt.Sprint(pageProxy))
	form.Set("proxy.birth_date", "1980-01-01")
	form.Set("validity.kind", "election")
	form.Set("validity.election_id", "presidentielle-2027")
	form["validity.rounds"] = []string{"1", "2"}
	start := time.Now()
	res, page, err := u.grantor.do(ctx, http.MethodPost, "/demande", form, "")
	pageTime := time.Since(start)
	if err != nil {
		return nil, 0, 0, err
	}
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/mes-procurations/") {
		return nil, 0, 0, fmt.Errorf("request form: %d %s", res.StatusCode, errorSummary(page))
	}
	u.pageRef = strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], "/mes-procurations/")

	if u.grantorToken, err = b.Issuer.Mint(auth.RoleGrantor, fmt.Sprintf("bench-%d", apiGrantor), map[string]any{
		"given_name": benchGivenName(4*i + 2), "family_name": "BENCH", "birthdate": "1980-01-01",
		"email": fmt.Sprintf("bench-%d@example.fr", apiGrantor)}, time.Hour); err != nil {
		return nil, 0, 0, err
	}
	if u.policeToken, err = b.Issuer.Mint(auth.RolePolice, agentEmail("opj", base, i), map[string]any{"given_name": "Bench", "family_name": "OFFICER",
		"rank": "brigadier", "unit": "Bench"}, time.Hour); err != nil {
		return nil, 0, 0, err
	}
	if u.townHallToken, err = b.Issuer.Mint(auth.RoleTownHall, agentEmail("mairie", base, i), map[string]any{"communes": []string{"75056"}}, time.Hour); err != nil {
		return nil, 0, 0, err
	}
	body, _ := json.Marshal(map[string]any{"grantor": map[string]any{"nne": fmt.Sprint(apiGrantor), "commune_code": "75056"},
		"proxy": map[string]any{"nne": fmt.Sprint(apiProxy), "birth_date": "1980-01-01"}, "validity": map[string]any{"election_id": "presidentielle-2027",
			"rounds": []int{1, 2}}})
	l := &Lifecycle{APIURL: b.APIURL}
	start = time.Now()
	status, out, err := l.call(ctx, "POST", "/v1/procurations", u.grantorToken, "application/json", body)
	apiTime := time.Since(start)
	if err != nil || status != http.StatusCreated {
		return nil, 0, 0, fmt.Errorf("API request: %d %s %v", status, out, err)
	}
	var created struct {
		Reference string `json:"reference"`
	}
	if err := json.Unmarshal(out, &created); err != nil {
		return nil, 0, 0, err
	}
	u.apiRef = created.Reference
	return u, pageTime, apiTime, nil
}

// browser is one person's cookies, following no redirect by itself.
type browser struct {
	base   string
	client *http.Client
}

func newBrowser(base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{base: base, client: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a request; with a token, or to /v1/, it is an API call.
func (b *browser) do(ctx context.Context, method, target string, form url.Values, token string) (*http.Response, []byte, error) {
	isAPI := token != "" || strings.HasPrefix(target, "/v1/")
	if strings.HasPrefix(target, "/") {
		target = b.base + target
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "text/html")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if isAPI {
		req.Header.Set("Accept", "application/json")
	}
	res, err := b.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return res, raw, err
}

func (b *browser) get(ctx context.Context, path string) (int, error) {
	res, _, err := b.do(ctx, http.MethodGet, path, nil, "")
	if err != nil {
		return 0, err
	}
	return res.StatusCode, nil
}

func (b *browser) api(ctx context.Context, path, token string) (int, error) {
	res, _, err := b.do(ctx, http.MethodGet, path, nil, token)
	if err != nil {
		return 0, err
	}
	return res.StatusCode, nil
}

func (b *browser) post(ctx context.Context, path string, form url.Values) (*http.Response, error) {
	res, _, err := b.do(ctx, http.MethodPost, path, form, "")
	return res, err
}

var inputRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)

// form reads a page's hidden fields (its CSRF token, its filling's id).
func (b *browser) form(ctx context.Context, path string) (url.Values, error) {
	res, raw, err := b.do(ctx, http.MethodGet, path, nil, "")
	if err != nil {
		return nil, err
	}
	if res.StatusCode != 200 {
		return nil, fmt.Errorf("%s: %d", path, res.StatusCode)
	}
	v := url.Values{}
	for _, m := range inputRE.FindAllStringSubmatch(string(raw), -1) {
		v.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return v, nil
}

// signIn goes through a development provider's page: person picks a demo
// identity ({"person": "0"}), or claims type one.
func (b *browser) signIn(ctx context.Context, provider string, claims map[string]string) error {
	res, _, err := b.do(ctx, http.MethodGet, "/connexion?fournisseur="+provider+"&suite=/", nil, "")
	if err != nil {
		return err
	}
	authorize := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || authorize == "" {
		return fmt.Errorf("sign-in with %s: %d (is DEV_ISSUER=true?)", provider, res.StatusCode)
	}
	page, err := b.form(ctx, authorize)
	if err != nil {
		return err
	}
	if p, ok := claims["person"]; ok {
		page.Set("person", p)
	} else {
		page.Set("person", "custom")
		for k, v := range claims {
			page.Set("claim."+k, v)
		}
	}
	u, _ := url.Parse(authorize)
	res, _, err = b.do(ctx, http.MethodPost, u.Scheme+"://"+u.Host+u.Path, page, "")
	if err != nil {
		return err
	}
	for hops := 0; res.StatusCode/100 == 3 && hops < 5; hops++ {
		if res, _, err = b.do(ctx, http.MethodGet, res.Header.Get("Location"), nil, ""); err != nil {
			return err
		}
	}
	if res.StatusCode != 200 {
		return fmt.Errorf("sign-in with %s ended with %d", provider, res.StatusCode)
	}
	return nil
}

func (b *browser) cancel(ctx context.Context, ref string) error {
	form, err := b.form(ctx, "/mes-procurations/"+ref+"/resilier")
	if err != nil {
		return err
	}
	res, err := b.post(ctx, "/mes-procurations/"+ref+"/resilier", form)
	if err == nil && res.StatusCode != http.StatusSeeOther {
		err = errors.New(res.Status)
	}
	return err
}

var summaryRE = regexp.MustCompile(`(?s)<div class="fr-alert fr-alert--error[^>]*>(.*?)</div>`)
var tagRE = regexp.MustCompile(`<[^>]+>`)

// errorSummary is the text of a page's error summary, to say why a form
// was refused.
func errorSummary(page []byte) string {
	m := summaryRE.FindSubmatch(page)
	if m == nil {
		return ""
	}
	return strings.Join(strings.Fields(html.UnescapeString(tagRE.ReplaceAllString(string(m[1]), " "))), " ")
}

func agentEmail(kind string, base, i int) string {
	return fmt.Sprintf("bench-%s-%d-%d@example.gouv.fr", kind, base, i)
}

// submit sends the form of a page with fields, and wants the redirect
// that follows a success.
func (b *browser) submit(ctx context.Context, page, action string, fields map[string]string) error {
	form, err := b.form(ctx, page)
	if err != nil {
		return err
	}
	for k, v := range fields {
		form.Set(k, v)
	}
	res, raw, err := b.do(ctx, http.MethodPost, action, form, "")
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("%s: %d %s", action, res.StatusCode, errorSummary(raw))
	}
	return nil
}

var rightRowRE = regexp.MustCompile(`(?s)<tr><td>(bench-[^<\s]+)</td>.*?action="/support/droits/(\d+)/retirer"`)

// revoke takes back the rights the run granted.
func (b *Portals) revoke(ctx context.Context, support *browser, base int) {
	res, raw, err := support.do(ctx, http.MethodGet, "/support/droits", nil, "")
	if err != nil || res.StatusCode != 200 {
		return
	}
	mark := fmt.Sprintf("-%d-", base)
	for _, m := range rightRowRE.FindAllStringSubmatch(string(raw), -1) {
		if strings.Contains(m[1], mark) {
			_ = support.submit(ctx, "/support/droits", "/support/droits/"+m[2]+"/retirer", nil)
		}
	}
}
