package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"

	"github.com/procurations/procuration/internal/errs"
)

// maxJSONBytes bounds a JSON body: the largest, a bulk approval of 5,000
// ids, is under 200 KB.
const maxJSONBytes = 256 << 10

// inputProblem refuses, before anything is decoded, what no operation
// accepts in a path, a query or a JSON body: invalid UTF-8, NUL and other
// control or formatting characters (line breaks are allowed in bodies, for
// the reasons agents type). It names the field, as Huma names them.
func inputProblem(r *http.Request) (int, []*huma.ErrorDetail, error) {
	var details []*huma.ErrorDetail
	if msg := controlProblem(r.URL.EscapedPath(), false, true); msg != "" {
		details = append(details, &huma.ErrorDetail{Location: "path", Message: msg})
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		details = append(details, &huma.ErrorDetail{Location: "query", Message: "paramètres de requête illisibles"})
	}
	names := make([]string, 0, len(query))
	for name := range query {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		// A name the client chose is never echoed when it is the fault.
		if msg := controlProblem(name, false, false); msg != "" {
			details = append(details, &huma.ErrorDetail{Location: "query", Message: "nom de paramètre : " + msg})
			continue
		}
		for _, v := range query[name] {
			if msg := controlProblem(v, false, false); msg != "" {
				details = append(details, &huma.ErrorDetail{Location: "query." + name, Message: msg})
			}
		}
	}
	if len(details) > 0 || r.Body == nil || r.Body == http.NoBody || r.Method == http.MethodGet || r.URL.Path == "/v1/register/imports" {
		return http.StatusUnprocessableEntity, details, nil
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBytes+1))
	if err != nil {
		return http.StatusBadRequest, nil, err
	}
	if len(raw) > maxJSONBytes {
		return http.StatusRequestEntityTooLarge, nil, nil
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	if media, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); media == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(raw))
		if err != nil {
			return http.StatusUnprocessableEntity, []*huma.ErrorDetail{{Location: "body", Message: "formulaire illisible"}}, nil
		}
		for name, values := range form {
			if msg := controlProblem(name, false, false); msg != "" {
				details = append(details, &huma.ErrorDetail{Location: "body", Message: "nom de champ : " + msg})
				continue
			}
			for _, v := range values {
				if msg := controlProblem(v, true, false); msg != "" {
					details = append(details, &huma.ErrorDetail{Location: "body." + name, Message: msg})
				}
			}
		}
		return http.StatusUnprocessableEntity, details, nil
	}
	if !utf8.Valid(raw) {
		return http.StatusUnprocessableEntity, []*huma.ErrorDetail{{Location: "body", Message: "texte illisible (encodage UTF-8 attendu)"}}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var body any
	if err := dec.Decode(&body); err != nil || dec.More() {
		return http.StatusUnprocessableEntity, []*huma.ErrorDetail{{Location: "body", Message: "JSON illisible (un seul document JSON attendu)"}}, nil
	}
	walk(body, "body", &details)
	return http.StatusUnprocessableEntity, details, nil
}

// walk checks every key and string of a decoded JSON value.
func walk(v any, at string, details *[]*huma.ErrorDetail) {
	switch x := v.(type) {
	case string:
		if msg := controlProblem(x, true, false); msg != "" {
			*details = append(*details, &huma.ErrorDetail{Location: at, Message: msg})
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if msg := controlProblem(k, false, false); msg != "" {
				*details = append(*details, &huma.ErrorDetail{Location: at, Message: "nom de propriété : " + msg})
				continue
			}
			walk(x[k], at+"."+k, details)
		}
	case []any:
		for i, item := range x {
			walk(item, at+"["+strconv.Itoa(i)+"]", details)
		}
	}
}

// controlProblem says what is wrong with s, or "". escaped: s is a URL
// path, whose escapes are decoded first.
func controlProblem(s string, lineBreaks, escaped bool) string {
	if escaped {
		decoded, err := url.PathUnescape(s)
		if err != nil {
			return "chemin mal formé"
		}
		s = decoded
	}
	if !utf8.ValidString(s) {
		return "texte illisible (encodage UTF-8 attendu)"
	}
	for _, r := range s {
		if lineBreaks && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return fmt.Sprintf("caractère interdit (U+%04X)", r)
		}
	}
	return ""
}

// writeInputProblem answers what inputProblem found.
func writeInputProblem(w http.ResponseWriter, write func(http.ResponseWriter, *huma.ErrorModel), status int, details []*huma.ErrorDetail, err error) bool {
	switch {
	case err != nil && !errors.Is(err, io.EOF):
		write(w, problemModel(http.StatusBadRequest, "Le corps de la requête n'a pas pu être lu."))
	case status == http.StatusRequestEntityTooLarge:
		write(w, problemModel(status, "Le corps de la requête est trop volumineux."))
	case len(details) > 0:
		write(w, &huma.ErrorModel{Status: status, Title: http.StatusText(status), Detail: errs.InvalidMessage, Errors: details})
	default:
		return false
	}
	return true
}
