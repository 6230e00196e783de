// Package netguard is Vigie's safe-egress policy for outgoing HTTP: the
// shortener resolver (ingest) and the webhook sender (alert) both fetch
// URLs that come from outside (a link in a post, a URL typed into the
// subscriptions API), and neither may be turned into a probe of the
// machine's own network (server-side request forgery). It refuses
// loopback, private, link-local, multicast and unspecified addresses
// unless they are explicitly allowed.
//
// The check runs in the dialer's Control hook, after name resolution and
// before the connection is made, on the address actually dialled: a name
// that resolves to 127.0.0.1, or a redirect to one, is refused the same way,
// and no packet is sent to a refused address.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrRefused is wrapped by the error of a refused connection.
var ErrRefused = errors.New("netguard: refusing to connect to a non-public address")

// Public reports whether ip is a public unicast address: not loopback,
// private (RFC 1918, RFC 4193), link-local, multicast or unspecified.
func Public(ip net.IP) bool {
	return !(ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast())
}

// Policy says which non-public addresses may be dialled anyway.
type Policy struct {
	// AllowPrivate allows every address (tests, closed networks).
	AllowPrivate bool
	// Allow lists prefixes allowed although not public, e.g. 127.0.0.0/8
	// for a receiver on the same machine, or 10.1.2.0/24 for an internal
	// Slack proxy.
	Allow []netip.Prefix
}

// ParsePrefixes parses CIDR prefixes or single addresses ("127.0.0.1",
// "::1", "10.0.0.0/8"), naming the bad element.
func ParsePrefixes(ss []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, s := range ss {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("[%d] %q: not an address or CIDR prefix", i, s)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// Permits reports whether the policy lets ip be dialled.
func (p Policy) Permits(ip net.IP) bool {
	if p.AllowPrivate || Public(ip) {
		return true
	}
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return false
	}
	a = a.Unmap()
	for _, pre := range p.Allow {
		if pre.Contains(a) {
			return true
		}
	}
	return false
}

// Control is a net.Dialer Control function enforcing the policy on the
// resolved address about to be dialled.
func (p Policy) Control(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("netguard: %s: %w", address, err)
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return fmt.Errorf("netguard: %s: not an IP address", address)
	}
	if !p.Permits(ip) {
		return fmt.Errorf("%w %s (allow it in the configuration if it is meant)", ErrRefused, ip)
	}
	return nil
}

// Client returns an HTTP client that enforces the policy on every
// connection (redirects included), with timeout bounding each request as
// a whole and the connection phase separately. Proxies from the
// environment are not used: a proxy would dial the target itself and
// bypass the check.
func (p Policy) Client(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	dialer := &net.Dialer{Timeout: min(timeout, 5*time.Second), Control: p.Control}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
		TLSHandshakeTimeout:   min(timeout, 5*time.Second),
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       30 * time.Second,
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}
