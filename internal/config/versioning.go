package config

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// RevisionBuildID is the build ID of a binary whose release names none: its
// VCS revision (with "-modified" when built from uncommitted changes), or
// "dev" when the toolchain recorded none (go test, go run).
func RevisionBuildID() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
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
		return "dev"
	}
	if len(revision) > 12 {
		revision = revision[:12]
	}
	return revision + modified
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
