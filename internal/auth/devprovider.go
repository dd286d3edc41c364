package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// The development identity providers play FranceConnect, FranceConnect+
// and ProConnect on the API's own URL, the way the real ones speak:
// authorization code with PKCE, a signed userinfo (application/jwt), and
// for FranceConnect+ an ID token and a userinfo encrypted to the client's
// published key. A page lists demo identities and takes any other.
// Codes and access tokens are signed, so any API replica answers.

// Development providers, by path under the API's URL.
const (
	DevFranceConnect     = "franceconnect"
	DevFranceConnectPlus = "franceconnect-plus"
	DevProConnect        = "proconnect"
)

// DevProviderIssuer is the issuer URL of a development provider.
func DevProviderIssuer(publicURL, name string) string { return publicURL + "/dev/" + name }

// DevIdentity is a person a development provider can sign in.
type DevIdentity struct {
	Label  string         `json:"-"`
	Claims map[string]any `json:"claims"`
}

// DevProviders serves the three providers.
type DevProviders struct {
	Issuer *Issuer
	// ClientJWKS is where a client publishes its encryption keys (the
	// portal's), fetched like the real FranceConnect+ does.
	ClientJWKS string
	// Identities lists, per provider, the demo people offered.
	Identities map[string][]DevIdentity
	HTTP       *http.Client
}

// Register serves every provider's endpoints under /dev/{name}/.
func (p *DevProviders) Register(mux *http.ServeMux) {
	for _, name := range []string{DevFranceConnect, DevFranceConnectPlus, DevProConnect} {
		base := "/dev/" + name
		mux.HandleFunc("GET "+base+"/.well-known/openid-configuration", p.discovery(name))
		mux.HandleFunc("GET "+base+"/jwks", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, p.Issuer.publicKeys()) })
		mux.HandleFunc("GET "+base+"/authorize", p.authorizePage(name))
		mux.HandleFunc("POST "+base+"/authorize", p.authorize(name))
		mux.HandleFunc("POST "+base+"/token", p.token(name))
		mux.HandleFunc("GET "+base+"/userinfo", p.userinfo(name))
		mux.HandleFunc("GET "+base+"/logout", p.logout)
	}
}

func (p *DevProviders) discovery(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		iss := DevProviderIssuer(p.Issuer.URL, name)
		doc := map[string]any{
			"issuer": iss, "jwks_uri": iss + "/jwks", "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token",
			"userinfo_endpoint": iss + "/userinfo", "end_session_endpoint": iss + "/logout",
			"response_types_supported": []string{"code"}, "grant_types_supported": []string{"authorization_code"},
			"subject_types_supported": []string{"public"}, "code_challenge_methods_supported": []string{"S256"},
			"id_token_signing_alg_values_supported": []string{"RS256"}, "userinfo_signing_alg_values_supported": []string{"RS256"},
			"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
			"scopes_supported":                      []string{"openid", "given_name", "family_name", "birthdate", "gender", "birthplace", "birthcountry", "email", "usual_name", "siret", "organizational_unit"},
		}
		if name == DevFranceConnectPlus {
			doc["id_token_encryption_alg_values_supported"] = []string{"RSA-OAEP-256"}
			doc["id_token_encryption_enc_values_supported"] = []string{"A256GCM"}
			doc["userinfo_encryption_alg_values_supported"] = []string{"RSA-OAEP-256"}
			doc["userinfo_encryption_enc_values_supported"] = []string{"A256GCM"}
			doc["acr_values_supported"] = []string{"eidas2", "eidas3"}
		} else if name == DevFranceConnect {
			doc["acr_values_supported"] = []string{"eidas1"}
		}
		writeJSON(w, doc)
	}
}

var devAuthorizePage = template.Must(template.New("authorize").Parse(`<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} (développement)</title>
<style>body{font-family:system-ui,Arial,sans-serif;max-width:44em;margin:2em auto;padding:0 1em;line-height:1.5;color:#1e1e1e}
button{font-size:1em;padding:.5em 1em;margin:.2em 0;cursor:pointer}label{display:block;margin-top:.6em}input{font-size:1em;padding:.3em;width:100%;max-width:24em}
.note{background:#fff4d6;padding:.6em 1em;border-left:4px solid #b34000}</style></head>
<body><main>
<h1>{{.Title}} <small>(fournisseur de développement)</small></h1>
<p class="note">Ce fournisseur d'identité n'existe qu'en développement : il remplace {{.Title}} pour essayer les portails.</p>
<h2>Se connecter en tant que…</h2>
<form method="post">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">{{end}}
<ul>{{range $i, $p := .People}}<li><button type="submit" name="person" value="{{$i}}">{{$p.Label}}</button></li>{{end}}</ul>
</form>
<h2>Ou une autre identité</h2>
<form method="post">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">{{end}}
<input type="hidden" name="person" value="custom">
{{range .Fields}}<label for="f-{{.Name}}">{{.Label}}</label><input id="f-{{.Name}}" name="claim.{{.Name}}" value="{{.Value}}" {{if .Required}}required{{end}}>{{end}}
<p><button type="submit">Se connecter</button></p>
</form>
</main></body></html>`))

type devField struct {
	Name, Label, Value string
	Required           bool
}

var devTitles = map[string]string{DevFranceConnect: "FranceConnect", DevFranceConnectPlus: "FranceConnect+ (France Identité)", DevProConnect: "ProConnect"}

func (p *DevProviders) authorizePage(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("response_type") != "code" || q.Get("redirect_uri") == "" || q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256" {
			http.Error(w, "authorization code with PKCE (S256) expected", http.StatusBadRequest)
			return
		}
		var hidden []devField
		for _, k := range []string{"client_id", "redirect_uri", "state", "nonce", "code_challenge", "acr_values"} {
			hidden = append(hidden, devField{Name: k, Value: q.Get(k)})
		}
		fields := []devField{{Name: "given_name", Label: "Prénoms", Required: true}, {Name: "family_name", Label: "Nom de naissance", Required: true},
			{Name: "birthdate", Label: "Date de naissance (AAAA-MM-JJ)", Required: true}, {Name: "gender", Label: "Sexe (female ou male)", Value: "female"},
			{Name: "birthplace", Label: "Lieu de naissance (code INSEE)"}, {Name: "birthcountry", Label: "Pays de naissance (code INSEE)", Value: "99100"},
			{Name: "email", Label: "Adresse électronique", Required: true}}
		if name == DevProConnect {
			fields = []devField{{Name: "given_name", Label: "Prénom", Required: true}, {Name: "usual_name", Label: "Nom", Required: true},
				{Name: "email", Label: "Adresse électronique professionnelle", Required: true}, {Name: "siret", Label: "SIRET", Value: "11000201100044"},
				{Name: "organization_label", Label: "Organisation", Value: "Ministère de l'Intérieur"}}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		var people []DevIdentity
		for _, person := range p.Identities[name] {
			people = append(people, person)
		}
		_ = devAuthorizePage.Execute(w, map[string]any{"Title": devTitles[name], "Hidden": hidden, "People": people, "Fields": fields})
	}
}

// devCode is what a code carries between the authorize page and the token
// endpoint: signed, so that any replica can redeem it, and short-lived.
type devCode struct {
	Claims      map[string]any `json:"claims"`
	ClientID    string         `json:"client_id"`
	RedirectURI string         `json:"redirect_uri"`
	Challenge   string         `json:"code_challenge"`
	Nonce       string         `json:"nonce"`
	ACR         string         `json:"acr"`
}

func (p *DevProviders) authorize(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		claims := map[string]any{}
		if person := r.PostFormValue("person"); person == "custom" {
			for k, v := range r.PostForm {
				if field, ok := strings.CutPrefix(k, "claim."); ok && v[0] != "" {
					claims[field] = v[0]
				}
			}
		} else {
			i := 0
			fmt.Sscan(person, &i)
			list := p.Identities[name]
			if i < 0 || i >= len(list) {
				http.Error(w, "no such identity", http.StatusBadRequest)
				return
			}
			for k, v := range list[i].Claims {
				claims[k] = v
			}
		}
		email, _ := claims["email"].(string)
		sum := sha256.Sum256([]byte(fmt.Sprint(claims["family_name"], claims["usual_name"], claims["given_name"], claims["birthdate"], email)))
		claims["sub"] = name + "-" + base64.RawURLEncoding.EncodeToString(sum[:9])
		acr := map[string]string{DevFranceConnect: "eidas1", DevFranceConnectPlus: "eidas2", DevProConnect: "eidas1"}[name]
		code, err := p.sign(devCode{Claims: claims, ClientID: r.PostFormValue("client_id"), RedirectURI: r.PostFormValue("redirect_uri"),
			Challenge: r.PostFormValue("code_challenge"), Nonce: r.PostFormValue("nonce"), ACR: acr}, "code", 2*time.Minute)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		back, err := url.Parse(r.PostFormValue("redirect_uri"))
		if err != nil {
			http.Error(w, "bad redirect_uri", http.StatusBadRequest)
			return
		}
		q := back.Query()
		q.Set("code", code)
		q.Set("state", r.PostFormValue("state"))
		q.Set("iss", DevProviderIssuer(p.Issuer.URL, name))
		back.RawQuery = q.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	}
}

func (p *DevProviders) token(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostFormValue("grant_type") != "authorization_code" {
			oauthError(w, "unsupported_grant_type")
			return
		}
		var c devCode
		if err := p.open(r.PostFormValue("code"), "code", &c); err != nil {
			oauthError(w, "invalid_grant")
			return
		}
		clientID, secret, ok := r.BasicAuth()
		if !ok {
			clientID, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
		}
		verifier := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
		if clientID != c.ClientID || secret == "" || r.PostFormValue("redirect_uri") != c.RedirectURI ||
			base64.RawURLEncoding.EncodeToString(verifier[:]) != c.Challenge {
			oauthError(w, "invalid_grant")
			return
		}
		iss := DevProviderIssuer(p.Issuer.URL, name)
		idClaims := map[string]any{"iss": iss, "sub": c.Claims["sub"], "aud": c.ClientID, "nonce": c.Nonce, "acr": c.ACR,
			"amr": []string{"pwd"}, "iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute * 5).Unix(), "auth_time": time.Now().Unix()}
		idToken, err := p.Issuer.signJSON(idClaims)
		if err == nil && name == DevFranceConnectPlus {
			idToken, err = p.encrypt(r.Context(), idToken)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		access, err := p.sign(c, "access", 10*time.Minute)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": 600, "id_token": idToken})
	}
}

func (p *DevProviders) userinfo(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		raw, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		var c devCode
		if err := p.open(raw, "access", &c); err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			http.Error(w, "invalid token", http.StatusUnauthorized)
			return
		}
		claims := map[string]any{"iss": DevProviderIssuer(p.Issuer.URL, name), "aud": c.ClientID, "iat": time.Now().Unix(),
			"exp": time.Now().Add(5 * time.Minute).Unix()}
		for k, v := range c.Claims {
			claims[k] = v
		}
		body, err := p.Issuer.signJSON(claims)
		if err == nil && name == DevFranceConnectPlus {
			body, err = p.encrypt(r.Context(), body)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/jwt")
		_, _ = w.Write([]byte(body))
	}
}

func (p *DevProviders) logout(w http.ResponseWriter, r *http.Request) {
	back, err := url.Parse(r.URL.Query().Get("post_logout_redirect_uri"))
	if err != nil || back.String() == "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!DOCTYPE html><html lang="fr"><title>Déconnecté</title><p>Vous êtes déconnecté du fournisseur de développement.</p></html>`)
		return
	}
	q := back.Query()
	if s := r.URL.Query().Get("state"); s != "" {
		q.Set("state", s)
	}
	back.RawQuery = q.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// encrypt wraps a signed token for the client, with the key it publishes.
func (p *DevProviders) encrypt(ctx context.Context, jws string) (string, error) {
	client := p.HTTP
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.ClientJWKS, nil)
	if err != nil {
		return "", err
	}
	res, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("the client's encryption keys: %w", err)
	}
	defer res.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil || len(set.Keys) == 0 {
		return "", fmt.Errorf("the client publishes no encryption key")
	}
	key := set.Keys[0]
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: key.Key, KeyID: key.KeyID},
		(&jose.EncrypterOptions{}).WithContentType("JWT").WithType("JWT"))
	if err != nil {
		return "", err
	}
	obj, err := enc.Encrypt([]byte(jws))
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// sign and open carry devCode values in signed JWTs of one use.
func (p *DevProviders) sign(c devCode, use string, ttl time.Duration) (string, error) {
	return p.Issuer.signJSON(map[string]any{"iss": p.Issuer.URL, "use": use, "exp": time.Now().Add(ttl).Unix(), "code": c})
}

func (p *DevProviders) open(raw, use string, c *devCode) error {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return err
	}
	var body struct {
		Use  string  `json:"use"`
		Exp  int64   `json:"exp"`
		Code devCode `json:"code"`
	}
	if err := tok.Claims(&p.Issuer.keys[0].key.PublicKey, &body); err != nil {
		return err
	}
	if body.Use != use || time.Now().Unix() > body.Exp {
		return fmt.Errorf("expired or misused")
	}
	*c = body.Code
	return nil
}

func oauthError(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
}
