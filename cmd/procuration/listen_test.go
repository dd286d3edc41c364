//go:build unix

package main

import (
	"context"
	"testing"
)

// Two API replicas share a port only when both ask to; otherwise the second
// fails to start, as a forgotten process on the port should make it.
func TestListenReusePort(t *testing.T) {
	ctx := context.Background()
	first, err := listen(ctx, "127.0.0.1:0", true)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	addr := first.Addr().String()
	second, err := listen(ctx, addr, true)
	if err != nil {
		t.Fatalf("second replica on %s: %v", addr, err)
	}
	second.Close()
	if third, err := listen(ctx, addr, false); err == nil {
		third.Close()
		t.Fatalf("a listener without HTTP_REUSE_PORT took %s, held by a replica", addr)
	}
}
