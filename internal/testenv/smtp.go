package testenv

import (
	"bytes"
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
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Mail is a message the SMTP server received, decoded.
type Mail struct {
	From      string
	To        []string
	Subject   string
	MessageID string
	Text      string
	HTML      string
	// Attachments maps file names to their content.
	Attachments map[string][]byte
}

// SMTP is a real SMTP server that keeps what it receives. It can be stopped
// and started again on the same port, as a mail relay going away would.
type SMTP struct {
	Port int
	// BeforeReply, when set, runs once a message is received and before the
	// server answers 250: a test stops a dependency there.
	BeforeReply func(Mail)

	mu       sync.Mutex
	received []Mail
	server   *smtp.Server
	tb       testing.TB
}

// StartSMTP listens on a free port.
func StartSMTP(tb testing.TB) *SMTP {
	s := &SMTP{Port: FreePort(tb), tb: tb}
	s.Start()
	tb.Cleanup(s.Stop)
	return s
}

// Start (again) listens on the server's port.
func (s *SMTP) Start() {
	srv := smtp.NewServer(&backend{s})
	srv.Addr = fmt.Sprintf("127.0.0.1:%d", s.Port)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	var ln net.Listener
	var err error
	for range 50 { // the port may linger for a moment after Stop
		if ln, err = net.Listen("tcp", srv.Addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		s.tb.Fatalf("SMTP listen: %v", err)
	}
	s.mu.Lock()
	s.server = srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// Stop closes the listener and every connection.
func (s *SMTP) Stop() {
	s.mu.Lock()
	srv := s.server
	s.server = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// SetBeforeReply installs (or removes, with nil) the hook.
func (s *SMTP) SetBeforeReply(f func(Mail)) {
	s.mu.Lock()
	s.BeforeReply = f
	s.mu.Unlock()
}

// Received returns a copy of the messages so far.
func (s *SMTP) Received() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.received...)
}

// To returns the messages sent to one address.
func (s *SMTP) To(addr string) []Mail {
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

type backend struct{ s *SMTP }

func (b *backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s    *SMTP
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
	m, err := decode(raw)
	if err != nil {
		return err
	}
	m.From, m.To = x.from, x.to
	x.s.mu.Lock()
	x.s.received = append(x.s.received, m)
	hook := x.s.BeforeReply
	x.s.mu.Unlock()
	if hook != nil {
		hook(m)
	}
	return nil
}

func decode(raw []byte) (Mail, error) {
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
