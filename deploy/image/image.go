// Package image builds the OCI image of the procuration binary without a
// Docker daemon and without a base image (no registry is reachable from the
// build machines): one layer holding the static binary, the CA bundle, the
// time-zone database and a non-root user.
package image

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The non-root user of distroless images: what cluster policies expect.
const (
	UID        = 65532
	BinaryPath = "/procuration"
	CABundle   = "/etc/ssl/certs/ca-certificates.crt"
	ZoneInfo   = "/usr/share/zoneinfo"
)

// Options say what goes into the image.
type Options struct {
	Binary   string // the static binary (CGO_ENABLED=0)
	CABundle string // PEM bundle of the build machine (Debian's ca-certificates)
	// ZoneInfoZip is Go's own copy of the IANA database, shipped with every
	// toolchain, so the image does not depend on the build machine's tzdata.
	ZoneInfoZip string
	Version     string
	Revision    string
	Created     time.Time // fixed for reproducible digests
	Arch        string
}

// Defaults fill what the options leave out from the build machine.
func (o *Options) defaults() {
	if o.CABundle == "" {
		o.CABundle = CABundle
	}
	if o.ZoneInfoZip == "" {
		o.ZoneInfoZip = path.Join(runtime.GOROOT(), "lib", "time", "zoneinfo.zip")
	}
	if o.Arch == "" {
		o.Arch = runtime.GOARCH
	}
	if o.Version == "" {
		o.Version = "dev"
	}
}

type entry struct {
	name string
	mode int64
	uid  int
	dir  bool
	body []byte
}

// Build assembles the image.
func Build(o Options) (v1.Image, error) {
	o.defaults()
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return nil, fmt.Errorf("binary: %w", err)
	}
	ca, err := os.ReadFile(o.CABundle)
	if err != nil {
		return nil, fmt.Errorf("CA bundle (apt-get install ca-certificates): %w", err)
	}
	entries := []entry{
		{name: "etc", dir: true, mode: 0o755},
		{name: "etc/ssl", dir: true, mode: 0o755},
		{name: "etc/ssl/certs", dir: true, mode: 0o755},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, body: ca},
		{name: "etc/passwd", mode: 0o644, body: []byte("root:x:0:0:root:/root:/sbin/nologin\n" +
			fmt.Sprintf("nonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", UID, UID))},
		{name: "etc/group", mode: 0o644, body: []byte(fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", UID))},
		{name: "home", dir: true, mode: 0o755},
		{name: "home/nonroot", dir: true, mode: 0o700, uid: UID},
		{name: "tmp", dir: true, mode: 0o1777},
		{name: BinaryPath[1:], mode: 0o755, body: bin},
	}
	zones, err := zoneEntries(o.ZoneInfoZip)
	if err != nil {
		return nil, err
	}
	entries = append(entries, zones...)
	layerTar, err := tarOf(entries, o.Created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layer)
	if err != nil {
		return nil, err
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", o.Arch
	cf.Created = v1.Time{Time: o.Created}
	cf.Config.Entrypoint = []string{BinaryPath}
	cf.Config.Cmd = []string{"api"}
	cf.Config.User = fmt.Sprintf("%d:%d", UID, UID)
	cf.Config.WorkingDir = "/home/nonroot"
	// Loopback, the binary's default, is unreachable from outside a container.
	cf.Config.Env = []string{"HTTP_ADDR=0.0.0.0:8080", "TZ=Europe/Paris"}
	cf.Config.ExposedPorts = map[string]struct{}{"8080/tcp": {}}
	cf.Config.Labels = map[string]string{
		"org.opencontainers.image.title":       "procuration",
		"org.opencontainers.image.description": "French voting proxies: the official three-step procedure and the matching platforms, on Temporal, PostgreSQL and SMTP",
		"org.opencontainers.image.source":      "https://github.com/procurations/procuration",
		"org.opencontainers.image.version":     o.Version,
		"org.opencontainers.image.revision":    o.Revision,
		"org.opencontainers.image.created":     o.Created.UTC().Format(time.RFC3339),
	}
	return mutate.ConfigFile(img, cf)
}

func zoneEntries(zipPath string) ([]entry, error) {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, fmt.Errorf("zoneinfo: %w", err)
	}
	defer zr.Close()
	dirs := map[string]bool{"usr": true, "usr/share": true, "usr/share/zoneinfo": true}
	var files []entry
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		name := path.Join("usr/share/zoneinfo", f.Name)
		for d := path.Dir(name); d != "usr/share/zoneinfo"; d = path.Dir(d) {
			dirs[d] = true
		}
		files = append(files, entry{name: name, mode: 0o644, body: body})
	}
	var out []entry
	for d := range dirs {
		out = append(out, entry{name: d, dir: true, mode: 0o755})
	}
	return append(out, files...), nil
}

// tarOf writes the entries in name order with fixed times, so the same
// inputs give the same digest.
func tarOf(entries []entry, mtime time.Time) ([]byte, error) {
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.uid, ModTime: mtime, Format: tar.FormatPAX}
		if e.dir {
			h.Typeflag, h.Name = tar.TypeDir, e.name+"/"
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Write puts the image in an OCI layout directory and, when tarPath is
// set, a tarball `docker load` and `podman load` take, tagged ref.
func Write(img v1.Image, layoutDir, tarPath, ref string) error {
	if layoutDir != "" {
		if err := os.RemoveAll(layoutDir); err != nil {
			return err
		}
		p, err := layout.Write(layoutDir, empty.Index)
		if err != nil {
			return err
		}
		if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": ref})); err != nil {
			return err
		}
	}
	if tarPath != "" {
		tag, err := parseTag(ref)
		if err != nil {
			return err
		}
		return tarball.WriteToFile(tarPath, tag, img)
	}
	return nil
}
