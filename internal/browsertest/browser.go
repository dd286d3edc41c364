// Package browsertest drives the portals in headless Chromium, as people
// use them: one browser context (its own cookies) per person, forms filled
// by their labels and sent with their buttons, a screenshot of every page
// visited, and axe-core run on it. Under `make test` a missing Chromium or
// axe-core fails the tests instead of skipping them.
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/procurations/procuration/internal/testenv"
)

// Browser is one Chromium for a test.
type Browser struct {
	t     *testing.T
	ctx   context.Context
	axe   string
	shots string
}

// Start launches headless Chromium (CHROMIUM, or chromium on PATH) and
// reads axe-core (AXE_CORE, the path of axe.min.js).
func Start(t *testing.T) *Browser {
	t.Helper()
	if testing.Short() && !testenv.Required() {
		t.Skip("browser test")
	}
	path := os.Getenv("CHROMIUM")
	if path == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
			if p, err := exec.LookPath(name); err == nil {
				path = p
				break
			}
		}
	}
	axePath := os.Getenv("AXE_CORE")
	if path == "" || axePath == "" {
		if testenv.Required() {
			t.Fatalf("the browser tests need Chromium (CHROMIUM=%q) and axe-core (AXE_CORE=%q): `make test` provides both", path, axePath)
		}
		t.Skip("no Chromium or axe-core: run under make test")
	}
	axe, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatalf("AXE_CORE: %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-background-networking", true), chromedp.Flag("lang", "fr-FR"),
		chromedp.WindowSize(1280, 900))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("starting Chromium %s: %v", path, err)
	}
	t.Cleanup(func() { cancel(); cancelAlloc() })
	shots := filepath.Join(repoRoot(), ".data", "screenshots", sanitize(t.Name()))
	_ = os.RemoveAll(shots)
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	return &Browser{t: t, ctx: ctx, axe: string(axe), shots: shots}
}

// Screenshots is the folder the pages' screenshots go to.
func (b *Browser) Screenshots() string { return b.shots }

func repoRoot() string {
	dir, _ := os.Getwd()
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	return dir
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func sanitize(s string) string { return strings.Trim(unsafeChars.ReplaceAllString(s, "-"), "-") }

// Person is someone at their own browser: cookies of their own.
func (b *Browser) Person(name string) *Page {
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("%s's browser: %v", name, err)
	}
	return &Page{b: b, t: b.t, ctx: ctx, name: name}
}

// PersonWithoutJS is someone whose browser runs no script of the pages:
// every page must work for them too.
func (b *Browser) PersonWithoutJS(name string) *Page {
	p := b.Person(name)
	p.noJS = true
	p.scripts(false)
	return p
}

// OnPhone gives the page a phone's screen, 390 CSS pixels wide with touch,
// from now on: most people sign up from one.
func (p *Page) OnPhone() *Page {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile,
		chromedp.EmulateTouch)); err != nil {
		p.t.Fatalf("%s's phone: %v", p.name, err)
	}
	return p
}

// FitsWidth fails the test when the page scrolls sideways: on a phone,
// nothing may be wider than the screen.
func (p *Page) FitsWidth() *Page {
	p.t.Helper()
	if over := Eval[float64](p, `document.documentElement.scrollWidth - window.innerWidth`); over > 0 {
		p.t.Errorf("%s: the page is %.0f pixels wider than the screen", p.name, over)
	}
	return p
}

// scripts lets the page's scripts run or not, from the next page on; axe-core
// needs them for its own run.
func (p *Page) scripts(on bool) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on})
		return err
	})); err != nil {
		p.t.Fatalf("%s's browser: %v", p.name, err)
	}
}

// Page is what one person sees.
type Page struct {
	b      *Browser
	t      *testing.T
	ctx    context.Context
	name   string
	shots  int
	noJS   bool
	Status int
}

func (p *Page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.fail("%s: %v", what, err)
	}
}

func (p *Page) fail(format string, args ...any) {
	p.t.Helper()
	p.Screenshot("failure")
	p.t.Fatalf("%s, at %s: %s\npage:\n%s", p.name, p.URL(), fmt.Sprintf(format, args...), p.Text())
}

// navigate runs steps that load a page and records its status.
func (p *Page) navigate(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		p.fail("%s: %v", what, err)
	}
	p.Status = int(res.Status)
}

// Open loads a URL.
func (p *Page) Open(url string) *Page {
	p.t.Helper()
	p.navigate("open "+url, chromedp.Navigate(url))
	return p
}

// Click follows the link or presses the button whose text contains text.
func (p *Page) Click(text string) *Page {
	p.t.Helper()
	p.must(fmt.Sprintf(`!!%s`, findJS(text)), "no link or button %q", text)
	p.navigate("click "+text, chromedp.Evaluate[chromedp.Void](findJS(text)+`.click()`))
	return p
}

// findJS finds the link or button whose text is text, or else the last
// whose text contains it (the page's own, after the header's).
func findJS(text string) string {
	q, _ := json.Marshal(text)
	return fmt.Sprintf(`((t) => { const all = [...document.querySelectorAll('a, button, input[type=submit]')]; const label = e => (e.textContent || e.value || '').replace(/\s+/g, ' ').trim();
		return all.find(e => label(e) === t) || all.filter(e => label(e).includes(t)).pop() })(%s)`, q)
}

func (p *Page) must(cond string, format string, args ...any) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
	if err != nil || !ok {
		p.fail(format, args...)
	}
}

// Fill types value into the field labelled label (its label's text starts
// with label).
func (p *Page) Fill(label, value string) *Page {
	p.t.Helper()
	id := p.fieldID(label)
	p.do("fill "+label, chromedp.SetValue(chromedp.ID(id), value))
	return p
}

// Choose ticks the radio button or checkbox labelled label.
func (p *Page) Choose(label string) *Page {
	p.t.Helper()
	id := p.fieldID(label)
	p.do("choose "+label, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.getElementById(%q).checked = true`, id)))
	return p
}

// Untick clears the checkbox labelled label.
func (p *Page) Untick(label string) *Page {
	p.t.Helper()
	id := p.fieldID(label)
	p.do("untick "+label, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.getElementById(%q).checked = false`, id)))
	return p
}

// Select picks the option whose text is text in the select labelled label.
func (p *Page) Select(label, text string) *Page {
	p.t.Helper()
	id := p.fieldID(label)
	q, _ := json.Marshal(text)
	p.must(fmt.Sprintf(`(() => { const s = document.getElementById(%q); const o = [...s.options].find(o => o.text === %s); if (!o) return false; s.value = o.value; return true })()`, id, q),
		"no option %q in %q", text, label)
	return p
}

func (p *Page) fieldID(label string) string {
	p.t.Helper()
	q, _ := json.Marshal(label)
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	id, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(
		`(() => { const l = [...document.querySelectorAll('label')].find(l => l.innerText.trim().startsWith(%s)); return l ? l.htmlFor : '' })()`, q)))
	if err != nil || id == "" {
		p.fail("no field labelled %q", label)
	}
	return id
}

// Press sends keys to the focused element (kb constants for Tab, Enter).
func (p *Page) Press(keys string) *Page {
	p.t.Helper()
	p.do("press", chromedp.KeyEvent(keys))
	return p
}

// PressAndLoad sends keys that load a page (Enter on a form).
func (p *Page) PressAndLoad(keys string) *Page {
	p.t.Helper()
	p.navigate("press", chromedp.KeyEvent(keys))
	return p
}

// Focused describes the focused element: its tag, id and text.
func (p *Page) Focused() string {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](
		`(() => { const e = document.activeElement; return e ? (e.tagName.toLowerCase() + '#' + e.id + ' ' + (e.innerText || e.value || '')).trim() : '' })()`))
	if err != nil {
		p.fail("focus: %v", err)
	}
	return v
}

// Text is the page's visible text.
func (p *Page) Text() string {
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	if err != nil {
		return ""
	}
	return v
}

// Eval evaluates a JavaScript expression.
func Eval[T any](p *Page, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.fail("eval %s: %v", expr, err)
	}
	return v
}

// Fetched is what a download answered.
type Fetched struct {
	Status      int    `json:"status"`
	ContentType string `json:"type"`
	// Head is the body's first bytes, as text.
	Head string `json:"head"`
}

// Fetch downloads a URL with the person's cookies, as a link to a file
// would, without leaving the page.
func (p *Page) Fetch(url string) Fetched {
	p.t.Helper()
	q, _ := json.Marshal(url)
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	f, err := chromedp.Run(ctx, chromedp.Evaluate[Fetched](fmt.Sprintf(`fetch(%s, {credentials: 'same-origin'}).then(async r =>
		({status: r.status, type: r.headers.get('Content-Type') || '', head: (await r.text()).slice(0, 200)}))`, q), chromedp.EvalAwaitPromise))
	if err != nil {
		p.fail("fetch %s: %v", url, err)
	}
	return f
}

// URL is the page's address.
func (p *Page) URL() string {
	v, _ := chromedp.Run(p.ctx, chromedp.Location())
	return v
}

// Has fails unless the page shows every text.
func (p *Page) Has(texts ...string) *Page {
	p.t.Helper()
	body := p.Text()
	for _, s := range texts {
		if !strings.Contains(body, s) {
			p.fail("%q not on the page", s)
		}
	}
	return p
}

// Lacks fails if the page shows any text.
func (p *Page) Lacks(texts ...string) *Page {
	p.t.Helper()
	body := p.Text()
	for _, s := range texts {
		if strings.Contains(body, s) {
			p.fail("%q should not be on the page", s)
		}
	}
	return p
}

// Expect fails unless the last page loaded with status.
func (p *Page) Expect(status int) *Page {
	p.t.Helper()
	if p.Status != status {
		p.fail("status %d, want %d", p.Status, status)
	}
	return p
}

// Screenshot saves the page in full, numbered in the order taken.
func (p *Page) Screenshot(name string) string {
	p.shots++
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	file := filepath.Join(p.b.shots, fmt.Sprintf("%s-%02d-%s.png", sanitize(p.name), p.shots, sanitize(name)))
	if err := os.WriteFile(file, img, 0o644); err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
	}
	return file
}

// Violation is an accessibility rule a page breaks.
type Violation struct {
	ID    string `json:"id"`
	Help  string `json:"help"`
	Nodes []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// Check screenshots the page and runs axe-core on it, failing the test on
// any violation.
func (p *Page) Check(name string) *Page {
	p.t.Helper()
	p.Screenshot(name)
	for _, v := range p.Violations() {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, n.HTML)
		}
		p.t.Errorf("%s, %s: accessibility %s (%s) at %s", p.name, name, v.ID, v.Help, strings.Join(where, " | "))
	}
	return p
}

// Violations are what axe-core finds on the page: WCAG 2.1 A and AA, and
// its best practices.
func (p *Page) Violations() []Violation {
	p.t.Helper()
	if p.noJS {
		p.scripts(true)
		defer p.scripts(false)
	}
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](p.b.axe+`;
		axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})
			.then(r => r.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => ({target: n.target, html: n.html}))})))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		p.fail("axe-core: %v", err)
	}
	var violations []Violation
	if err := json.Unmarshal(raw, &violations); err != nil {
		p.fail("axe-core result: %v", err)
	}
	return violations
}
