package api

import (
	"html/template"
	"net/http"
	"net/url"
)

// The links in emails open these pages rather than act: mail filters and
// link scanners fetch links before people click them, so a GET must change
// nothing. The page's button makes the POST that acts.
var linkPage = template.Must(template.New("link").Parse(`<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title></head>
<body style="font-family: Marianne, Arial, sans-serif; max-width: 36em; margin: 3em auto; line-height: 1.5">
<h1 style="font-size: 1.4em">{{.Title}}</h1>
<p>{{.Text}}</p>
<form method="post" action="{{.Action}}" id="act">
<button type="submit" style="background: #000091; color: #fff; border: 0; padding: 0.7em 1.4em; font-size: 1em">{{.Button}}</button>
</form>
<p id="result" role="status"></p>
<script>
document.getElementById("act").addEventListener("submit", async (e) => {
  e.preventDefault();
  const res = await fetch(e.target.action, {method: "POST"});
  const body = await res.json().catch(() => ({}));
  document.getElementById("act").hidden = true;
  document.getElementById("result").textContent = res.ok ? {{.Done}} : (body.detail || "Une erreur est survenue.");
});
</script>
</body></html>`))

type linkView struct {
	Title, Text, Button, Done string
	Action                    string
}

func registerLinkPages(mux *http.ServeMux) {
	mux.HandleFunc("GET /liens/inscription/{id}", func(w http.ResponseWriter, r *http.Request) {
		render(w, linkView{Title: "Confirmer votre inscription", Text: "Confirmez votre adresse pour entrer dans la liste des personnes à mettre en relation.",
			Button: "Je confirme mon inscription", Done: "Merci : votre inscription est confirmée.",
			Action: "/v1/signups/" + url.PathEscape(r.PathValue("id")) + "/confirm?token=" + url.QueryEscape(r.URL.Query().Get("token"))})
	})
	mux.HandleFunc("GET /liens/reponse/{id}", func(w http.ResponseWriter, r *http.Request) {
		outcome := r.URL.Query().Get("outcome")
		v := linkView{Title: "Accepter la mise en relation", Text: "Vos coordonnées seront transmises si l'autre personne accepte aussi.",
			Button: "J'accepte", Done: "Merci : votre réponse est enregistrée."}
		if outcome != "accepted" {
			outcome = "declined"
			v.Title, v.Text, v.Button = "Décliner la mise en relation", "Nous vous proposerons une autre personne si possible.", "Je décline"
		}
		v.Action = "/v1/matches/" + url.PathEscape(r.PathValue("id")) + "/answer-link?outcome=" + outcome +
			"&token=" + url.QueryEscape(r.URL.Query().Get("token"))
		render(w, v)
	})
}

func render(w http.ResponseWriter, v linkView) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	_ = linkPage.Execute(w, v)
}
