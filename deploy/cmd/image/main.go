// Command image writes the OCI image of a static procuration binary (see
// `make image`).
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/procurations/procuration/deploy/image"
)

func main() {
	var o image.Options
	var layoutDir, tarPath, ref string
	flag.StringVar(&o.Binary, "binary", "", "static binary to ship (CGO_ENABLED=0)")
	flag.StringVar(&layoutDir, "out", "", "OCI layout directory to write")
	flag.StringVar(&tarPath, "tar", "", "image tarball to write (docker load / podman load)")
	flag.StringVar(&o.Version, "version", "dev", "org.opencontainers.image.version and the tag")
	flag.StringVar(&o.Revision, "revision", "", "org.opencontainers.image.revision (git commit)")
	flag.StringVar(&o.Arch, "arch", "", "architecture of the binary (default: this machine's)")
	flag.Parse()
	// SOURCE_DATE_EPOCH (the commit's time) keeps rebuilds byte-identical.
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			fail(fmt.Errorf("SOURCE_DATE_EPOCH: %w", err))
		}
		o.Created = time.Unix(sec, 0).UTC()
	}
	ref = "procuration:" + o.Version
	img, err := image.Build(o)
	if err != nil {
		fail(err)
	}
	if err := image.Write(img, layoutDir, tarPath, ref); err != nil {
		fail(err)
	}
	d, _ := img.Digest()
	fmt.Println(ref, d)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "image:", err)
	os.Exit(1)
}
