package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TLSFront is a TLS-terminating proxy in front of a plain server, playing a
// Temporal frontend that speaks TLS (the dev server does not): its own CA,
// a server certificate for ServerName, and, when it requires them, client
// certificates signed by that CA.
type TLSFront struct {
	Addr       string
	ServerName string
	// PEM files: the CA, and a client certificate and key the CA signed.
	CA, ClientCert, ClientKey string
	// Handshakes counts the TLS handshakes that succeeded.
	mu         sync.Mutex
	handshakes int
}

// Handshakes is how many connections got through the TLS handshake.
func (f *TLSFront) Handshakes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.handshakes
}

// StartTLSFront listens on a free port and forwards every connection that
// completes the handshake to target.
func StartTLSFront(tb testing.TB, target string, requireClientCert bool) *TLSFront {
	tb.Helper()
	dir := tb.TempDir()
	f := &TLSFront{ServerName: "temporal.procuration.test"}
	caKey, caCert := newCert(tb, nil, nil, &x509.Certificate{
		Subject: pkix.Name{CommonName: "test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	})
	f.CA = writePEM(tb, dir, "ca.pem", "CERTIFICATE", caCert.Raw)
	serverKey, serverCert := newCert(tb, caKey, caCert, &x509.Certificate{
		Subject: pkix.Name{CommonName: f.ServerName}, DNSNames: []string{f.ServerName},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	})
	clientKey, clientCert := newCert(tb, caKey, caCert, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "procuration-worker"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	})
	f.ClientCert = writePEM(tb, dir, "client.pem", "CERTIFICATE", clientCert.Raw)
	der, err := x509.MarshalECPrivateKey(clientKey)
	if err != nil {
		tb.Fatal(err)
	}
	f.ClientKey = writePEM(tb, dir, "client-key.pem", "EC PRIVATE KEY", der)

	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{{Certificate: [][]byte{serverCert.Raw}, PrivateKey: serverKey, Leaf: serverCert}},
		// gRPC refuses a TLS connection that did not negotiate HTTP/2.
		NextProtos: []string{"h2"},
		ClientCAs:  pool,
	}
	if requireClientCert {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = ln.Close() })
	f.Addr = ln.Addr().String()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go f.forward(conn.(*tls.Conn), target)
		}
	}()
	return f
}

func (f *TLSFront) forward(conn *tls.Conn, target string) {
	defer conn.Close()
	if err := conn.Handshake(); err != nil {
		return
	}
	f.mu.Lock()
	f.handshakes++
	f.mu.Unlock()
	backend, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer backend.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(backend, conn); done <- struct{}{} }()
	go func() { _, _ = io.Copy(conn, backend); done <- struct{}{} }()
	<-done
}

func newCert(tb testing.TB, parentKey *ecdsa.PrivateKey, parent, tmpl *x509.Certificate) (*ecdsa.PrivateKey, *x509.Certificate) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl.SerialNumber = serial
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return key, cert
}

func writePEM(tb testing.TB, dir, name, kind string, der []byte) string {
	tb.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}
