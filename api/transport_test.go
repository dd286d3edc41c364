package api

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/procurations/procuration/internal/auth"
)

type answer struct {
	status      int
	contentType string
	body        map[string]any
	raw         string
}

func call(t *testing.T, h http.Handler, method, path, contentType, body string) answer {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body == "" {
		req = httptest.NewRequest(method, path, nil)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	a := answer{status: rec.Code, contentType: rec.Header().Get("Content-Type"), raw: rec.Body.String()}
	_ = json.Unmarshal(rec.Body.Bytes(), &a.body)
	return a
}

func locations(a answer) []string {
	var out []string
	list, _ := a.body["errors"].([]any)
	for _, e := range list {
		out = append(out, e.(map[string]any)["location"].(string))
	}
	return out
}

// What the router, the decoder and a panic would answer in text/plain or
// in English is problem+json in French; bad input stops before any use case.
func TestEveryAnswerIsProblemJSONInFrench(t *testing.T) {
	h, _ := New(Deps{Log: zap.NewNop(), Verifier: auth.NewVerifier("procuration", nil, nil)})
	signup := `{"given_names":"Alice","family_name":"MOREAU","birth_date":"1990-02-03","email":"alice@example.fr","commune_code":"75056","rounds":[1],"consent":true}`
	for name, tc := range map[string]struct {
		method, path, contentType, body string
		status                          int
		location                        string
	}{
		"unknown path":            {"GET", "/v1/nothing", "", "", 404, ""},
		"wrong method":            {"PUT", "/v1/elections", "", "", 405, ""},
		"no content type":         {"POST", "/v1/campaigns/c/requests", "", signup, 415, ""},
		"foreign content type":    {"POST", "/v1/campaigns/c/requests", "text/plain", signup, 415, ""},
		"NUL in a field":          {"POST", "/v1/campaigns/c/requests", "application/json", strings.Replace(signup, "Alice", `A\u0000b`, 1), 422, "body.given_names"},
		"bidi override":           {"POST", "/v1/campaigns/c/requests", "application/json", strings.Replace(signup, "Alice", `A\u202eb`, 1), 422, "body.given_names"},
		"invalid UTF-8":           {"POST", "/v1/campaigns/c/requests", "application/json", strings.Replace(signup, "Alice", "A\xffb", 1), 422, "body"},
		"NUL in the path":         {"GET", "/v1/matches/%00", "", "", 422, "path"},
		"NUL in a query":          {"GET", "/v1/campaigns/c/matches?commune=%00", "", "", 422, "query.commune"},
		"a property in caps":      {"POST", "/v1/campaigns/c/requests", "application/json", strings.Replace(signup, "given_names", "GIVEN_NAMES", 1), 422, "body.GIVEN_NAMES"},
		"not JSON":                {"POST", "/v1/campaigns/c/requests", "application/json", "{nope", 422, "body"},
		"too large":               {"POST", "/v1/campaigns/c/requests", "application/json", `{"given_names":"` + strings.Repeat("a", 300<<10) + `"}`, 413, ""},
		"answer link, no outcome": {"POST", "/v1/matches/m-1/answer-link", "application/json", `{"token":"x"}`, 422, "body.outcome"},
	} {
		t.Run(name, func(t *testing.T) {
			a := call(t, h, tc.method, tc.path, tc.contentType, tc.body)
			if a.status != tc.status || a.contentType != "application/problem+json" {
				t.Fatalf("%d %s: %s", a.status, a.contentType, a.raw)
			}
			detail, _ := a.body["detail"].(string)
			if detail == "" || !looksFrench(detail) {
				t.Errorf("detail not in French: %q", detail)
			}
			if tc.location != "" && !contains(locations(a), tc.location) {
				t.Errorf("want %s among %v", tc.location, locations(a))
			}
			if strings.Contains(a.raw, "Alice") || strings.Contains(a.raw, "aaaa") {
				t.Error("the answer echoes the request")
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// looksFrench spots a text a French reader would recognise as theirs.
func looksFrench(s string) bool {
	for _, w := range []string{"é", "è", "à", "ê", " de ", " du ", " la ", " le ", " les ", " des ", "Requête", "Ressource", "Jeton", "Données", "Méthode", "Corps", "Type"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

func TestAPanicAnswersProblemJSON(t *testing.T) {
	h := guard(zap.NewNop(), http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }), nil)
	a := call(t, h, "GET", "/v1/elections", "", "")
	if a.status != 500 || a.contentType != "application/problem+json" || a.body["detail"] != "Erreur interne." {
		t.Fatalf("%d %s %s", a.status, a.contentType, a.raw)
	}
}

// The scheme of Authorization is case-insensitive (RFC 9110).
func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	h, _ := New(Deps{Log: zap.NewNop(), Verifier: auth.NewVerifier("procuration", nil, nil)})
	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		req := httptest.NewRequest("GET", "/v1/elections", nil)
		req.Header.Set("Authorization", scheme+" not-a-jwt")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		// A token that is read but refused: the scheme was understood.
		if rec.Code != 401 || !strings.Contains(rec.Body.String(), "invalide") {
			t.Errorf("%s: %d %s", scheme, rec.Code, rec.Body.String())
		}
	}
}

// net/http's own answers, written before any handler runs, come out as
// problem+json through the API's listener.
func TestTheServersOwnAnswersAreProblemJSON(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.NotFoundHandler(), MaxHeaderBytes: 1 << 10}
	go func() { _ = srv.Serve(Listener(ln)) }()
	defer srv.Close()
	for name, request := range map[string]string{
		"bad escape":       "GET /v1/%zz HTTP/1.1\r\nHost: x\r\n\r\n",
		"headers too long": "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 8<<10) + "\r\n\r\n",
	} {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(conn, request)
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		body, _ := io.ReadAll(res.Body)
		conn.Close()
		if res.StatusCode < 400 || res.Header.Get("Content-Type") != "application/problem+json" || !looksFrench(string(body)) {
			t.Errorf("%s: %d %s %s", name, res.StatusCode, res.Header.Get("Content-Type"), body)
		}
	}
}
