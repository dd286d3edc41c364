package image

import "github.com/google/go-containerregistry/pkg/name"

func parseTag(ref string) (name.Tag, error) { return name.NewTag(ref) }
