package image

import (
	"archive/tar"
	"crypto/x509"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/procurations/procuration/deploy/internal/settings"
)

// The image's compressed size stays under this: the binary (~36 MB
// stripped) compresses to 14 MB; the ceiling leaves room to grow
// but catches a debug build or a stray toolchain.
const maxCompressedBytes = 24 << 20

// TestTheImageOfTheRealBinary builds the real binary as `make image` does,
// writes the layout and the tarball, and reads the image back from disk.
func TestTheImageOfTheRealBinary(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "procuration")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/procuration")
	build.Dir = "../.."
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	img, err := Build(Options{Binary: bin, Version: "test", Revision: "abc", Created: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	layoutDir, tarPath := filepath.Join(dir, "oci"), filepath.Join(dir, "image.tar")
	if err := Write(img, layoutDir, tarPath, "procuration:test"); err != nil {
		t.Fatal(err)
	}
	p, err := layout.FromPath(layoutDir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil || len(im.Manifests) != 1 {
		t.Fatalf("layout index: %v %+v", err, im)
	}
	got, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tarball.ImageFromPath(tarPath, nil); err != nil {
		t.Fatalf("tarball unreadable: %v", err)
	}

	layers, err := got.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %v, %d", err, len(layers))
	}
	size, err := layers[0].Size()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("compressed layer: %.1f MB", float64(size)/(1<<20))
	if size > maxCompressedBytes {
		t.Errorf("image layer %d bytes, ceiling %d", size, maxCompressedBytes)
	}

	cf, err := got.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.User != "65532:65532" || strings.HasPrefix(cf.Config.User, "0") {
		t.Errorf("user %q, want non-root 65532:65532", cf.Config.User)
	}
	if strings.Join(cf.Config.Entrypoint, " ") != BinaryPath || strings.Join(cf.Config.Cmd, " ") != "api" {
		t.Errorf("entrypoint %v cmd %v", cf.Config.Entrypoint, cf.Config.Cmd)
	}
	for _, l := range []string{"title", "source", "version", "revision", "created"} {
		if cf.Config.Labels["org.opencontainers.image."+l] == "" {
			t.Errorf("label org.opencontainers.image.%s missing", l)
		}
	}
	known := settings.Names()
	for _, kv := range cf.Config.Env {
		if k, _, _ := strings.Cut(kv, "="); k != "TZ" && !known[k] {
			t.Errorf("image Env %s is not a setting of the binary", k)
		}
	}
	if cf.OS != "linux" || cf.Architecture == "" {
		t.Errorf("platform %s/%s", cf.OS, cf.Architecture)
	}

	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]*tar.Header{}
	bodies := map[string][]byte{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := "/" + strings.TrimSuffix(h.Name, "/")
		files[name] = h
		switch name {
		case BinaryPath, CABundle, "/etc/passwd", ZoneInfo + "/Europe/Paris":
			bodies[name], _ = io.ReadAll(tr)
		}
	}
	if h := files[BinaryPath]; h == nil || h.Mode&0o111 != 0o111 || h.Size < 10<<20 {
		t.Errorf("binary missing or not executable: %+v", h)
	} else if b := bodies[BinaryPath]; len(b) < 4 || string(b[1:4]) != "ELF" {
		t.Error("binary is not an ELF executable")
	}
	if pool := x509.NewCertPool(); !pool.AppendCertsFromPEM(bodies[CABundle]) {
		t.Error("no CA certificate in the bundle")
	}
	if _, err := time.LoadLocationFromTZData("Europe/Paris", bodies[ZoneInfo+"/Europe/Paris"]); err != nil {
		t.Errorf("zoneinfo Europe/Paris: %v", err)
	}
	if !strings.Contains(string(bodies["/etc/passwd"]), "nonroot:x:65532:65532:") {
		t.Errorf("passwd has no user 65532:\n%s", bodies["/etc/passwd"])
	}
	if h := files["/home/nonroot"]; h == nil || h.Uid != UID {
		t.Errorf("home of the user: %+v", h)
	}
	for _, shell := range []string{"/bin/sh", "/bin/bash", "/bin/busybox", "/usr/bin/sh"} {
		if files[shell] != nil {
			t.Errorf("%s in the image: no shell expected", shell)
		}
	}
	for name := range files {
		if !strings.HasPrefix(name, "/etc") && !strings.HasPrefix(name, "/usr/share/zoneinfo") && name != "/usr/share" && name != "/usr" &&
			!strings.HasPrefix(name, "/home") && name != "/tmp" && name != BinaryPath {
			t.Errorf("unexpected file %s", name)
		}
	}
}
