package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The checks the portals' tests rely on can fail: axe-core finds a page's
// faults, and the helpers see what is and is not on a page.
func TestChecksFindFaults(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.URL.Path == "/script" {
			fmt.Fprint(w, `<!DOCTYPE html><html lang="fr"><head><title>Script</title></head><body><main><h1>Script</h1>
<script>document.body.insertAdjacentHTML('beforeend', '<p id="ran">ran</p>')</script></main></body></html>`)
			return
		}
		if r.URL.Path == "/good" {
			fmt.Fprint(w, `<!DOCTYPE html><html lang="fr"><head><title>Bonne page</title></head><body><main><h1>Bonjour</h1>
<form method="get" action="/good"><label for="n">Nom</label><input id="n" name="n"><button type="submit">Envoyer</button></form></main></body></html>`)
			return
		}
		fmt.Fprint(w, `<!DOCTYPE html><html><head></head><body><img src="/x.png"><input name="n"><p style="color:#bbb;background:#fff">pâle</p></body></html>`)
	}))
	defer srv.Close()
	b := Start(t)
	p := b.Person("testeur")

	var ids []string
	for _, v := range p.Open(srv.URL + "/bad").Violations() {
		ids = append(ids, v.ID)
	}
	for _, want := range []string{"html-has-lang", "document-title", "image-alt", "label", "color-contrast"} {
		assert.True(t, slices.Contains(ids, want), "axe-core should find %s, found %v", want, ids)
	}

	assert.Empty(t, p.Open(srv.URL+"/good").Violations())
	p.Fill("Nom", "Dupont").Click("Envoyer")
	assert.Equal(t, 200, p.Status)
	assert.Contains(t, p.URL(), "n=Dupont")
	assert.Contains(t, p.Text(), "Bonjour")
	assert.NotContains(t, p.Text(), "Au revoir")

	nojs := b.PersonWithoutJS("sans-javascript")
	nojs.Open(srv.URL + "/script")
	assert.Equal(t, "", Eval[string](nojs, `document.getElementById('ran') ? 'ran' : ''`), "the page's script should not run")
	p.Open(srv.URL + "/script")
	assert.Equal(t, "ran", Eval[string](p, `document.getElementById('ran') ? 'ran' : ''`))
}
