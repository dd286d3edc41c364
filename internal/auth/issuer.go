package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Issuer is the API's own OpenID issuer: it signs the links of the
// matching platforms' emails and, in development only, tokens of every
// role. The API serves its discovery document and keys; the worker and
// `procuration token` sign with the same key files, so tokens go through
// the verification production uses.
type Issuer struct {
	URL      string
	Audience string
	// keys[0] signs; every key verifies, so a key can be rotated with an
	// overlap: add the new one first, drop the old one once its tokens
	// have expired.
	keys []issuerKey
}

type issuerKey struct {
	key *rsa.PrivateKey
	id  string
}

// LoadOrCreateIssuer reads the signing keys at paths (comma-separated, the
// first signs). When create is set (development) a missing first key is
// generated; otherwise a missing key is an error.
func LoadOrCreateIssuer(url, audience, paths string, create bool) (*Issuer, error) {
	i := &Issuer{URL: url, Audience: audience}
	for n, path := range strings.Split(paths, ",") {
		path = strings.TrimSpace(path)
		if path == "" {
			continue
		}
		k, err := loadKey(path, create && n == 0)
		if err != nil {
			return nil, err
		}
		i.keys = append(i.keys, k)
	}
	if len(i.keys) == 0 {
		return nil, fmt.Errorf("ISSUER_KEY: no key file")
	}
	return i, nil
}

func loadKey(path string, create bool) (issuerKey, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && create {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return issuerKey{}, err
		}
		raw = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: mustPKCS8(key)})
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return issuerKey{}, err
		}
		// O_EXCL: when the API and the token command start together, one key wins.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			_, err = f.Write(raw)
			f.Close()
		}
		if err != nil && !errors.Is(err, os.ErrExist) {
			return issuerKey{}, err
		}
		if raw, err = os.ReadFile(path); err != nil {
			return issuerKey{}, err
		}
	} else if errors.Is(err, os.ErrNotExist) {
		return issuerKey{}, fmt.Errorf("ISSUER_KEY: %s does not exist (production keys are made and distributed by the operators)", path)
	} else if err != nil {
		return issuerKey{}, err
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return issuerKey{}, fmt.Errorf("%s: not a PEM key", path)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return issuerKey{}, fmt.Errorf("%s: %w", path, err)
	}
	key, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return issuerKey{}, fmt.Errorf("%s: not an RSA key", path)
	}
	sum := sha256.Sum256(x509.MarshalPKCS1PublicKey(&key.PublicKey))
	return issuerKey{key: key, id: base64.RawURLEncoding.EncodeToString(sum[:8])}, nil
}

func mustPKCS8(key *rsa.PrivateKey) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(err)
	}
	return der
}

// Mint signs a token for sub with role ("" or "grantor": a FranceConnect
// token without a role claim) and extra claims.
func (i *Issuer) Mint(role, sub string, extra map[string]any, ttl time.Duration) (string, error) {
	now := time.Now()
	base := map[string]any{"iss": i.URL, "sub": sub, "aud": i.Audience, "iat": now.Unix(), "exp": now.Add(ttl).Unix()}
	if role != "" && role != RoleGrantor {
		base["role"] = role
	}
	for k, v := range extra {
		base[k] = v
	}
	return i.signJSON(base)
}

// signJSON signs claims with the current key.
func (i *Issuer) signJSON(claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: i.keys[0].key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", i.keys[0].id))
	if err != nil {
		return "", err
	}
	sig, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return sig.CompactSerialize()
}

// publicKeys is the key set that verifies the issuer's tokens.
func (i *Issuer) publicKeys() jose.JSONWebKeySet {
	set := jose.JSONWebKeySet{}
	for _, k := range i.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.key.PublicKey, KeyID: k.id, Algorithm: "RS256", Use: "sig"})
	}
	return set
}

// MintLink signs the token of an email's link: a requester's or a
// volunteer's, for one purpose on one object, until the action can no
// longer happen.
func (i *Issuer) MintLink(role, signupID, purpose, object string, until time.Time) (string, error) {
	return i.Mint(role, signupID, map[string]any{"purpose": purpose, "obj": object}, time.Until(until))
}

// Register serves the discovery document and the key set.
func (i *Issuer) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{
			"issuer":                                i.URL,
			"jwks_uri":                              i.URL + "/.well-known/jwks.json",
			"authorization_endpoint":                i.URL + "/authorize",
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, i.publicKeys())
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// LoadRSAKey reads a PKCS#8 RSA key, creating it when create is set; it
// returns the key and its id (a digest of the public key).
func LoadRSAKey(path string, create bool) (*rsa.PrivateKey, string, error) {
	k, err := loadKey(path, create)
	return k.key, k.id, err
}
