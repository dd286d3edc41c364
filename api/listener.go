package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
)

// Listener wraps the API's listener so that the answers net/http writes
// itself, before any handler runs (400 on a malformed request line, 431 on
// headers too large), are problem+json in French like every other answer.
func Listener(l net.Listener) net.Listener { return problemListener{l} }

type problemListener struct{ net.Listener }

func (l problemListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &problemConn{Conn: c}, nil
}

type problemConn struct{ net.Conn }

// canned matches net/http's own error answers: a status line, a text/plain
// body and Connection: close, never a Date header (handlers' answers carry one).
var canned = regexp.MustCompile(`^HTTP/1\.1 (4\d\d) [^\r\n]*\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n`)

var cannedDetail = map[int]string{
	http.StatusBadRequest:                  "Requête mal formée.",
	http.StatusRequestHeaderFieldsTooLarge: "En-têtes de la requête trop volumineux.",
	http.StatusNotImplemented:              "Codage de transfert non pris en charge.",
}

func (c *problemConn) Write(b []byte) (int, error) {
	m := canned.FindSubmatch(b)
	if m == nil {
		return c.Conn.Write(b)
	}
	status, _ := strconv.Atoi(string(m[1]))
	detail := cannedDetail[status]
	if detail == "" {
		detail = http.StatusText(status)
	}
	var body bytes.Buffer
	_ = json.NewEncoder(&body).Encode(huma.ErrorModel{Status: status, Title: http.StatusText(status), Detail: detail})
	if _, err := fmt.Fprintf(c.Conn, "HTTP/1.1 %d %s\r\nContent-Type: application/problem+json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, http.StatusText(status), body.Len(), body.Bytes()); err != nil {
		return 0, err
	}
	return len(b), nil
}
