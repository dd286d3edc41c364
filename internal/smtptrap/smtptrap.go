// Package smtptrap is a real SMTP server that keeps every message it takes,
// decoded, with the time it took it. It can be stopped and started again on
// the same port, as a mail relay going away would. The integration tests
// (through testenv) and the fault harness both read their emails from it.
package smtptrap

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Mail is a message the server received, decoded.
type Mail struct {
	From      string
	To        []string
	Subject   string
	MessageID string
	Text      string
	HTML      string
	// Attachments maps file names to their content.
	Attachments map[string][]byte
	// At is when the server took the message, just before its 250.
	At time.Time
}

// Server listens on one port; the zero Port means a free one, chosen by
// the first Start and kept across restarts.
type Server struct {
	Port int
	// BeforeReply, when set, runs once a message is received and before the
	// server answers 250: a test stops a dependency there.
	BeforeReply func(Mail)

	mu       sync.Mutex
	received []Mail
	server   *smtp.Server
}

// Start (again) listens on the server's port.
func (s *Server) Start() error {
	srv := smtp.NewServer(&backend{s})
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	var ln net.Listener
	var err error
	for range 50 { // the port may linger for a moment after Stop
		if ln, err = net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", s.Port)); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("SMTP listen: %w", err)
	}
	s.mu.Lock()
	s.Port = ln.Addr().(*net.TCPAddr).Port
	srv.Addr = ln.Addr().String()
	s.server = srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return nil
}

// Stop closes the listener and every connection at once.
func (s *Server) Stop() {
	if srv := s.take(); srv != nil {
		_ = srv.Close()
	}
}

// Shutdown stops taking connections, lets those under way finish their
// transaction for up to grace, then closes what is left: a relay stopped by
// its operator rather than one that crashed.
func (s *Server) Shutdown(grace time.Duration) {
	srv := s.take()
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	_ = srv.Shutdown(ctx)
	_ = srv.Close()
}

func (s *Server) take() *smtp.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	srv := s.server
	s.server = nil
	return srv
}

// SetBeforeReply installs (or removes, with nil) the hook.
func (s *Server) SetBeforeReply(f func(Mail)) {
	s.mu.Lock()
	s.BeforeReply = f
	s.mu.Unlock()
}

// Received returns a copy of the messages so far.
func (s *Server) Received() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.received...)
}

// To returns the messages sent to one address.
func (s *Server) To(addr string) []Mail {
	var out []Mail
	for _, m := range s.Received() {
		for _, to := range m.To {
			if strings.EqualFold(to, addr) {
				out = append(out, m)
			}
		}
	}
	return out
}

type backend struct{ s *Server }

func (b *backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s    *Server
	from string
	to   []string
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error { x.from = from; return nil }
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error   { x.to = append(x.to, to); return nil }
func (x *session) Reset()                                      { x.from, x.to = "", nil }
func (x *session) Logout() error                               { return nil }

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := Decode(raw)
	if err != nil {
		return err
	}
	m.From, m.To, m.At = x.from, x.to, time.Now()
	x.s.mu.Lock()
	x.s.received = append(x.s.received, m)
	hook := x.s.BeforeReply
	x.s.mu.Unlock()
	if hook != nil {
		hook(m)
	}
	return nil
}

// Decode reads a raw message: subject, Message-ID, text and HTML bodies,
// attachments.
func Decode(raw []byte) (Mail, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Mail{}, err
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return Mail{}, err
	}
	m := Mail{Subject: subject, MessageID: strings.Trim(msg.Header.Get("Message-Id"), "<>")}
	err = walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, &m)
	return m, err
}

func walk(contentType, encoding string, body io.Reader, m *Mail) error {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return err
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if _, params, err := mime.ParseMediaType(part.Header.Get("Content-Disposition")); err == nil && params["filename"] != "" {
				var body io.Reader = part
				if strings.EqualFold(part.Header.Get("Content-Transfer-Encoding"), "base64") {
					body = base64.NewDecoder(base64.StdEncoding, part)
				}
				content, err := io.ReadAll(body)
				if err != nil {
					return err
				}
				if m.Attachments == nil {
					m.Attachments = map[string][]byte{}
				}
				m.Attachments[params["filename"]] = content
				continue
			}
			if err := walk(part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"), part, m); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	content, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	switch mediaType {
	case "text/plain":
		m.Text = string(content)
	case "text/html":
		m.HTML = string(content)
	}
	return nil
}
