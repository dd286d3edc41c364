package api

import (
	"html/template"
	"net/http"
)

var docsPage = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="fr">
<head>
  <meta charset="utf-8">
  <meta name="referrer" content="no-referrer">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{.}}</title>
  <link rel="stylesheet" href="/docs/assets/styles.min.css">
  <script src="/docs/assets/web-components.min.js"></script>
</head>
<body style="height: 100vh;">
  <elements-api apiDescriptionUrl="/openapi.json" router="hash" layout="sidebar" tryItCredentialsPolicy="same-origin" />
</body>
</html>`))

// serveDocs serves the docs page with its renderer from dir instead of a
// CDN, for networks that reach no CDN.
func serveDocs(mux *http.ServeMux, title, dir string) {
	mux.HandleFunc("GET /docs", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = docsPage.Execute(w, title)
	})
	mux.Handle("GET /docs/assets/", http.StripPrefix("/docs/assets/", http.FileServer(http.Dir(dir))))
}
