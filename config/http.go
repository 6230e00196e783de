package config

import (
	"fmt"
	"math"
	"net/netip"
	"net/textproto"
	"net/url"
	"strings"
)

// validateHTTP checks the http block (access control: docs/security.md).
// Token values in files and environment variables are read, and checked,
// by the web server at start; here only what the file itself says.
func (c *Config) validateHTTP(bad func(key, format string, a ...any)) {
	h := c.HTTP
	if !strings.Contains(h.Addr, ":") {
		bad("http.addr", "%q must be host:port", h.Addr)
	}
	names := map[string]bool{}
	for i, t := range h.Auth.Tokens {
		key := fmt.Sprintf("http.auth.tokens[%d]", i)
		if !validName(t.Name) {
			bad(key+".name", "%q must be 1-64 letters, digits, '-' or '_'", t.Name)
		} else if names[t.Name] {
			bad(key+".name", "%q is used twice", t.Name)
		}
		names[t.Name] = true
		if t.Role != "analyst" && t.Role != "admin" {
			bad(key+".role", "must be analyst or admin, got %q", t.Role)
		}
		set := 0
		for _, v := range []string{string(t.Token), t.TokenFile, t.TokenEnv} {
			if v != "" {
				set++
			}
		}
		if set != 1 {
			bad(key+".token", "set exactly one of token, token_file and token_env")
		}
		if t.Token != "" && len(t.Token) < MinTokenLength {
			bad(key+".token", "must be at least %d characters (use a random one: openssl rand -hex 32)", MinTokenLength)
		}
	}
	for i, p := range h.Auth.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				bad(fmt.Sprintf("http.auth.trusted_proxies[%d]", i), "%q is not an address or CIDR prefix", p)
			}
		}
	}
	for _, hd := range []struct{ key, v string }{{"http.auth.user_header", h.Auth.UserHeader}, {"http.auth.groups_header", h.Auth.GroupsHeader}} {
		if !validHeaderName(hd.v) {
			bad(hd.key, "%q is not an HTTP header name", hd.v)
		}
	}
	if len(h.Auth.TrustedProxies) > 0 && strings.EqualFold(h.Auth.UserHeader, "Authorization") {
		bad("http.auth.user_header", "must not be Authorization")
	}
	if h.Auth.SessionTTL.D() < 0 || h.Auth.SessionTTL.D() > 30*24*3600e9 {
		bad("http.auth.session_ttl", "must be between 1s and 720h")
	}
	for i, o := range h.CORSOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			bad(fmt.Sprintf("http.cors_origins[%d]", i), "%q must be an origin like https://dash.example.org (scheme and host, no path)", o)
		}
	}
	if math.IsNaN(h.RateLimit.RPS) || math.IsInf(h.RateLimit.RPS, 0) {
		bad("http.rate_limit.rps", "must be a finite number")
	}
	if h.RateLimit.RPS >= 0 && h.RateLimit.Burst < 1 {
		bad("http.rate_limit.burst", "must be at least 1, got %d", h.RateLimit.Burst)
	}
	if h.AuditFile == "" {
		bad("http.audit_file", "must not be empty")
	}
}

// MinTokenLength is the shortest bearer token accepted in http.auth: a
// token is a password that scripts keep, so it must not be guessable.
const MinTokenLength = 16

func validHeaderName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return textproto.CanonicalMIMEHeaderKey(s) != ""
}
