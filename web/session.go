package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/procurations/procuration/internal/auth"
	"github.com/procurations/procuration/internal/store"
)

// Session is what the server keeps of a browser: who signed in, with which
// provider, the token to end the provider's session, the CSRF token of its
// forms, and a sign-in on its way. It lives in PostgreSQL, so that every
// replica serves it; the cookie holds only a random id.
type Session struct {
	// Who signed in; empty before.
	Who      auth.Claims `json:"who"`
	Provider string      `json:"provider,omitempty"`
	IDToken  string      `json:"id_token,omitempty"`
	CSRF     string      `json:"csrf"`
	Created  time.Time   `json:"created"`
	// Login is a sign-in under way: what the callback checks.
	Login *pendingLogin `json:"login,omitempty"`
	// Flash is a message shown once, on the next page.
	Flash string `json:"flash,omitempty"`

	id    string
	dirty bool
	// rights are the signed-in agent's, read with the session.
	rights []store.Right
	// dossier is the one the page shows, read with the session if asked.
	dossier *store.DossierRead
}

type pendingLogin struct {
	Provider string    `json:"provider"`
	State    string    `json:"state"`
	Nonce    string    `json:"nonce"`
	Verifier string    `json:"verifier"`
	Next     string    `json:"next"`
	At       time.Time `json:"at"`
}

// SignedIn reports a session someone signed in to.
func (s *Session) SignedIn() bool { return s.Who.Identity() != "" }

// sessions keeps the sessions and their cookie.
type sessions struct {
	store *store.Store
	// secure: the cookie is sent over HTTPS only (outside loopback).
	secure bool
	// idle and absolute timeouts.
	idle, max time.Duration
	// now is the service's clock, which rights are valid by.
	now func() time.Time
}

func (m *sessions) cookieName() string {
	if m.secure {
		return "__Host-procuration"
	}
	return "procuration"
}

func randomToken(bytes int) string {
	b := make([]byte, bytes)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// load reads the browser's session, or starts an empty one, stored only
// once something is written to it (a sign-in starting): a visitor who only
// reads costs no row. With dossier, the page's dossier is read with it
// (nil: no dossier).
func (m *sessions) load(r *http.Request, dossier *store.DossierRead) (*Session, error) {
	if c, err := r.Cookie(m.cookieName()); err == nil && c.Value != "" {
		var s Session
		seen, rights, err := m.store.LoadSessionAndRights(r.Context(), hashID(c.Value), &s, m.now(), dossier)
		switch {
		case err == nil && time.Since(seen) < m.idle && time.Since(s.Created) < m.max:
			s.id, s.rights, s.dossier = c.Value, rights, dossier
			if time.Since(seen) > time.Minute {
				_ = m.store.TouchSession(r.Context(), hashID(s.id))
			}
			return &s, nil
		case err == nil:
			_ = m.store.DeleteSession(r.Context(), hashID(c.Value))
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
	}
	return &Session{CSRF: randomToken(32), Created: time.Now()}, nil
}

// save stores the session if it changed, and sets its cookie.
func (m *sessions) save(ctx context.Context, w http.ResponseWriter, s *Session) error {
	if !s.dirty {
		return nil
	}
	if s.id == "" {
		s.id = randomToken(32)
	}
	expires := s.Created.Add(m.max)
	if err := m.store.SaveSession(ctx, hashID(s.id), s, expires); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: m.cookieName(), Value: s.id, Path: "/", Expires: expires, HttpOnly: true, Secure: m.secure,
		SameSite: http.SameSiteLaxMode})
	s.dirty = false
	return nil
}

// renew gives a session a new id when someone signs in: a session fixed
// before the sign-in is worth nothing after it.
func (m *sessions) renew(ctx context.Context, s *Session) {
	if s.id != "" {
		_ = m.store.DeleteSession(ctx, hashID(s.id))
	}
	s.id, s.CSRF, s.Created, s.dirty = "", randomToken(32), time.Now(), true
}

// end deletes the session and its cookie.
func (m *sessions) end(ctx context.Context, w http.ResponseWriter, s *Session) {
	if s.id != "" {
		_ = m.store.DeleteSession(ctx, hashID(s.id))
	}
	http.SetCookie(w, &http.Cookie{Name: m.cookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: m.secure,
		SameSite: http.SameSiteLaxMode})
}

// validCSRF compares a form's token with the session's, in constant time.
func (s *Session) validCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.CSRF)) == 1
}
