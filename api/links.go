package api

import (
	"context"
	"html/template"
	"net/http"

	"github.com/procurations/procuration/internal/errs"
)

// The links in emails open these pages rather than act: mail filters and
// link scanners fetch links before people click them, so a GET changes
// nothing. The page's button posts a form whose body carries the link's
// token, and the answer is a page too: no JavaScript is needed.
var linkPage = template.Must(template.New("link").Parse(`<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>{{.Title}}</title>
<style>body{font-family:system-ui,Arial,sans-serif;max-width:36em;margin:3em auto;padding:0 1em;line-height:1.5;color:#1e1e1e}
button{background:#1e1e1e;color:#fff;border:0;padding:.7em 1.4em;font-size:1em;cursor:pointer}
button:focus{outline:3px solid #ffbf47;outline-offset:2px}</style></head>
<body><main>
<h1>{{.Title}}</h1>
<p>{{.Text}}</p>
{{if .Button}}<form method="post">
<input type="hidden" name="token" value="{{.Token}}">
{{if .Outcome}}<input type="hidden" name="outcome" value="{{.Outcome}}">{{end}}
<button type="submit">{{.Button}}</button>
</form>{{end}}
</main></body></html>`))

type linkView struct {
	Title, Text, Button string
	Token, Outcome      string
}

func (h *handlers) registerLinkPages(mux *http.ServeMux) {
	mux.HandleFunc("GET /liens/inscription/{id}", func(w http.ResponseWriter, r *http.Request) {
		render(w, http.StatusOK, linkView{Title: "Confirmer votre inscription",
			Text:   "Confirmez votre adresse pour entrer dans la liste des personnes à mettre en relation.",
			Button: "Je confirme mon inscription", Token: r.URL.Query().Get("token")})
	})
	mux.HandleFunc("POST /liens/inscription/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, err := h.confirm(r.Context(), r.PathValue("id"), r.PostFormValue("token"))
		h.done(w, err, linkView{Title: "Inscription confirmée", Text: "Merci : votre inscription est confirmée. Vous recevrez un e-mail dès qu'une personne près de chez vous pourra être mise en relation avec vous."})
	})
	mux.HandleFunc("GET /liens/reponse/{id}", func(w http.ResponseWriter, r *http.Request) {
		v := linkView{Title: "Accepter la mise en relation", Text: "Vos coordonnées seront transmises si l'autre personne accepte aussi.",
			Button: "J'accepte", Token: r.URL.Query().Get("token"), Outcome: "accepted"}
		if r.URL.Query().Get("outcome") != "accepted" {
			v.Title, v.Text, v.Button, v.Outcome = "Décliner la mise en relation", "Nous vous proposerons une autre personne si possible.", "Je décline", "declined"
		}
		render(w, http.StatusOK, v)
	})
	mux.HandleFunc("POST /liens/reponse/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, err := h.answerWithLink(r.Context(), r.PathValue("id"), r.PostFormValue("token"), r.PostFormValue("outcome"))
		h.done(w, err, linkView{Title: "Réponse enregistrée", Text: "Merci : votre réponse est enregistrée. Un e-mail vous dira la suite."})
	})
}

// done renders the page after a link's action: its result, or the reason
// it failed, in French.
func (h *handlers) done(w http.ResponseWriter, err error, ok linkView) {
	if err == nil {
		render(w, http.StatusOK, ok)
		return
	}
	e, known := errs.As(err)
	status, text := http.StatusInternalServerError, "Une erreur est survenue ; réessayez plus tard."
	if known {
		text = e.Message
		status = e.HTTPStatus()
	}
	render(w, status, linkView{Title: "Action impossible", Text: text})
}

func render(w http.ResponseWriter, status int, v linkView) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_ = linkPage.Execute(w, v)
}

// confirm and answerWithLink check a link's token as a bearer token would
// be checked, then act as its holder.
func (h *handlers) confirm(ctx context.Context, id, token string) (string, error) {
	claims, err := h.Verifier.Verify(ctx, token)
	if err != nil {
		return "", h.tokenFailure(err, "Lien de confirmation invalide ou expiré.")
	}
	su, err := h.svc.ConfirmSignup(ctx, claims, id)
	return su.Status, err
}

func (h *handlers) answerWithLink(ctx context.Context, id, token, outcome string) (string, error) {
	claims, err := h.Verifier.Verify(ctx, token)
	if err != nil {
		return "", h.tokenFailure(err, "Lien invalide ou expiré.")
	}
	if !claims.Allows("answer-offer", id) {
		return "", errs.Forbidden("Ce lien ne permet pas de répondre à cette mise en relation.")
	}
	m, err := h.svc.AnswerMatch(ctx, claims, id, outcome)
	return string(m.Status), err
}
