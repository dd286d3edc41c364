package api

import (
	"net"
	"strings"
)

// clientAddress is the network address a rate limit counts: the peer's,
// or, when the peer is a trusted reverse proxy, the last address of
// X-Forwarded-For that is not one. IPv6 clients count by /64, the least a
// site is given, so that rotating addresses within it does not help.
func clientAddress(remote, forwarded string, trusted []*net.IPNet) string {
	ip := net.ParseIP(host(remote))
	if ip != nil && isTrusted(ip, trusted) && forwarded != "" {
		hops := strings.Split(forwarded, ",")
		for i := len(hops) - 1; i >= 0; i-- {
			hop := net.ParseIP(strings.TrimSpace(hops[i]))
			if hop == nil {
				break
			}
			ip = hop
			if !isTrusted(hop, trusted) {
				break
			}
		}
	}
	if ip == nil {
		return remote
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}

func host(remote string) string {
	h, _, err := net.SplitHostPort(remote)
	if err != nil {
		return remote
	}
	return h
}

func isTrusted(ip net.IP, trusted []*net.IPNet) bool {
	for _, n := range trusted {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}
