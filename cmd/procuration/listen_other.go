//go:build !unix

package main

import (
	"context"
	"errors"
	"net"
)

func listen(ctx context.Context, addr string, reusePort bool) (net.Listener, error) {
	if reusePort {
		return nil, errors.New("HTTP_REUSE_PORT: this system has no SO_REUSEPORT")
	}
	var lc net.ListenConfig
	return lc.Listen(ctx, "tcp", addr)
}
