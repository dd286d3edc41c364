package config

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
)

// RevisionBuildID is the build ID of a binary whose release names none: its
// VCS revision (with "-modified" when built from uncommitted changes) or,
// when the toolchain recorded none (-buildvcs=false, go test), a digest of
// the executable, so that two builds of different code never share one.
func RevisionBuildID() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return executableBuildID()
	}
	var revision, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "-modified"
			}
		}
	}
	if revision == "" {
		return executableBuildID()
	}
	if len(revision) > 12 {
		revision = revision[:12]
	}
	return revision + modified
}

func executableBuildID() string {
	path, err := os.Executable()
	if err != nil {
		return "dev"
	}
	f, err := os.Open(path)
	if err != nil {
		return "dev"
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "dev"
	}
	return fmt.Sprintf("sha-%x", h.Sum(nil)[:6])
}

// The server keeps "." and ":" out of deployment names, which older
// version strings used as separators, and "__" for itself.
func deploymentName(s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("empty")
	}
	if strings.ContainsAny(s, ".:") || strings.HasPrefix(s, "__") {
		return fmt.Errorf("a dot, a colon or a leading __")
	}
	return nil
}

func buildID(s string) error {
	if strings.HasPrefix(s, "__") || strings.ContainsAny(s, " \t\n") || len(s) > 255 {
		return fmt.Errorf("a space, a leading __ or too long")
	}
	return nil
}
