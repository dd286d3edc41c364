package api

import (
	"net"
	"testing"
)

func TestClientAddressTrustsOnlyConfiguredProxies(t *testing.T) {
	_, proxies, _ := net.ParseCIDR("10.0.0.0/8")
	trusted := []*net.IPNet{proxies}
	for name, tc := range map[string]struct {
		remote, forwarded string
		trusted           []*net.IPNet
		want              string
	}{
		"no proxy":                       {"203.0.113.7:5555", "", nil, "203.0.113.7"},
		"a header from a stranger":       {"203.0.113.7:5555", "198.51.100.1", trusted, "203.0.113.7"},
		"behind the trusted proxy":       {"10.1.2.3:443", "198.51.100.1", trusted, "198.51.100.1"},
		"a forged first hop":             {"10.1.2.3:443", "1.2.3.4, 198.51.100.1", trusted, "198.51.100.1"},
		"two trusted hops":               {"10.1.2.3:443", "198.51.100.1, 10.9.9.9", trusted, "198.51.100.1"},
		"IPv6 counts by /64":             {"[2001:db8:1:2:aaaa::1]:443", "", nil, "2001:db8:1:2::/64"},
		"IPv6 neighbour, same budget":    {"[2001:db8:1:2:bbbb::9]:443", "", nil, "2001:db8:1:2::/64"},
		"proxy not configured, no trust": {"10.1.2.3:443", "198.51.100.1", nil, "10.1.2.3"},
	} {
		if got := clientAddress(tc.remote, tc.forwarded, tc.trusted); got != tc.want {
			t.Errorf("%s: %s, want %s", name, got, tc.want)
		}
	}
}
