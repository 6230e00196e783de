package web

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/vigie-osint/vigie/config"
)

// Access control (issue 11; docs/security.md). Vigie runs during
// elections, when the people it watches have every reason to read what
// it knows, blind it or turn its webhooks against someone. Every request
// but health checks and the static bundle passes through Access: CORS,
// identification (bearer token, trusted proxy headers, session cookie),
// a rate limit per client, cross-origin protection of state-changing
// browser requests, and a role check. Exports of bulk data are written to
// an audit log (audit.go).
//
// With nothing configured, Access admits anyone as an analyst, which is
// what `make run` on loopback needs; config.HTTP.CheckExposure refuses
// that on any other address.

// Role is what an identity may do. Roles are ordered: an admin can do
// everything an analyst can.
type Role int

// The roles.
const (
	RoleNone    Role = iota
	RoleAnalyst      // reads: the UI, the API, exports
	RoleAdmin        // also changes things (subscriptions) and reads the audit log
)

func (r Role) String() string {
	switch r {
	case RoleAnalyst:
		return "analyst"
	case RoleAdmin:
		return "admin"
	}
	return "none"
}

// ParseRole reads "analyst" or "admin".
func ParseRole(s string) (Role, error) {
	switch s {
	case "analyst":
		return RoleAnalyst, nil
	case "admin":
		return RoleAdmin, nil
	}
	return RoleNone, fmt.Errorf("role %q: want analyst or admin", s)
}

// How an identity was established.
const (
	ViaAnonymous = "anonymous" // no authentication configured (loopback)
	ViaToken     = "token"     // Authorization: Bearer
	ViaProxy     = "proxy"     // a trusted reverse proxy's headers
	ViaSession   = "session"   // the session cookie from /login
)

// Identity is who made a request. It is logged and audited by name, never
// by the secret that proved it.
type Identity struct {
	Name string
	Role Role
	Via  string
	// tokenID is the first bytes of the token's hash, carried by a
	// session so that removing a token also ends its sessions.
	tokenID string
}

type identityKey struct{}

// IdentityFrom returns the identity of the request whose context this is;
// the zero Identity (RoleNone) outside Access.
func IdentityFrom(ctx context.Context) Identity {
	id, _ := ctx.Value(identityKey{}).(Identity)
	return id
}

// Token is one bearer token as the server is given it. Only its SHA-256
// is kept once NewAccess returns.
type Token struct {
	Name  string
	Role  Role
	Value string
}

// AccessOptions configure NewAccess. The zero value is the open loopback
// mode with a default rate limit.
type AccessOptions struct {
	Tokens []Token
	// TrustedProxies are the peers whose UserHeader and GroupsHeader are
	// believed; they also make X-Forwarded-For and X-Forwarded-Proto count.
	TrustedProxies []netip.Prefix
	UserHeader     string // default X-Forwarded-User
	GroupsHeader   string // default X-Forwarded-Groups
	AdminGroups    []string
	AnalystGroups  []string // empty: any proxied user is at least an analyst
	// SessionKey signs session cookies; nil draws a random one.
	SessionKey []byte
	SessionTTL time.Duration // default 12h
	// CORSOrigins may call the API from their scripts with a bearer token.
	CORSOrigins []string
	// RateLimit is requests per second per client (default 20, negative:
	// off) with RateBurst at once (default 200).
	RateLimit float64
	RateBurst int
	// AuditFile is the append-only JSONL audit log; "" logs to Log only.
	AuditFile string
	// Log receives the audit lines (a dedicated "audit" logger) and
	// warnings; nil discards them.
	Log *slog.Logger
	// RequireAuth refuses unauthenticated requests even without tokens or
	// proxies (nobody gets in); set by AccessFromConfig when the
	// configuration asked for authentication.
	RequireAuth bool
}

// Access is the access-control layer of a Server.
type Access struct {
	tokens        []tokenEntry
	proxies       []netip.Prefix
	userHeader    string
	groupsHeader  string
	adminGroups   []string
	analystGroups []string
	sessionKey    []byte
	sessionTTL    time.Duration
	cors          map[string]bool
	required      bool // no anonymous access
	limits        *limiters
	failures      *limiters // failed authentications per IP: slows token guessing
	cop           *http.CrossOriginProtection
	audit         *AuditLog
	log           *slog.Logger
	now           func() time.Time
}

type tokenEntry struct {
	name string
	role Role
	hash [sha256.Size]byte
}

// NewAccess builds the access layer.
func NewAccess(o AccessOptions) (*Access, error) {
	a := &Access{
		proxies: o.TrustedProxies, userHeader: o.UserHeader, groupsHeader: o.GroupsHeader,
		adminGroups: o.AdminGroups, analystGroups: o.AnalystGroups,
		sessionKey: o.SessionKey, sessionTTL: o.SessionTTL, cors: map[string]bool{},
		log: o.Log, cop: http.NewCrossOriginProtection(), now: time.Now,
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.userHeader == "" {
		a.userHeader = "X-Forwarded-User"
	}
	if a.groupsHeader == "" {
		a.groupsHeader = "X-Forwarded-Groups"
	}
	if a.sessionTTL <= 0 {
		a.sessionTTL = 12 * time.Hour
	}
	if a.sessionKey == nil {
		a.sessionKey = make([]byte, 32)
		if _, err := rand.Read(a.sessionKey); err != nil {
			return nil, fmt.Errorf("web: session key: %w", err)
		}
	} else if len(a.sessionKey) < 32 {
		return nil, errors.New("web: the session key must be at least 32 bytes")
	}
	names := map[string]bool{}
	for _, t := range o.Tokens {
		if t.Value == "" {
			return nil, fmt.Errorf("web: token %q is empty", t.Name)
		}
		if t.Role != RoleAnalyst && t.Role != RoleAdmin {
			return nil, fmt.Errorf("web: token %q: role must be analyst or admin", t.Name)
		}
		if names[t.Name] {
			return nil, fmt.Errorf("web: token name %q is used twice", t.Name)
		}
		names[t.Name] = true
		h := sha256.Sum256([]byte(t.Value))
		for _, o := range a.tokens {
			if o.hash == h {
				// One value, two names: the audit log could not tell who.
				return nil, fmt.Errorf("web: tokens %q and %q have the same value", o.name, t.Name)
			}
		}
		a.tokens = append(a.tokens, tokenEntry{name: t.Name, role: t.Role, hash: h})
	}
	for _, o := range o.CORSOrigins {
		a.cors[o] = true
		// A script of an allowed origin calls with a bearer token, which
		// the cross-origin check lets through anyway; trusting the origin
		// also lets a same-site deployment post with its session.
		if err := a.cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("web: CORS origin: %w", err)
		}
	}
	a.required = o.RequireAuth || len(o.TrustedProxies) > 0 || slices.ContainsFunc(o.Tokens, func(t Token) bool { return t.Name != legacyTokenName })
	switch {
	case o.RateLimit < 0:
	default:
		rps, burst := o.RateLimit, o.RateBurst
		if rps == 0 {
			rps = 20
		}
		if burst <= 0 {
			burst = 200
		}
		a.limits = newLimiters(rate.Limit(rps), burst)
	}
	a.failures = newLimiters(rate.Every(5*time.Second), 10)
	audit, err := OpenAudit(o.AuditFile, a.log.With("log", "audit"))
	if err != nil {
		return nil, err
	}
	a.audit = audit
	return a, nil
}

// legacyTokenName names alerts.api_token, which predates roles: it is an
// admin token, but alone it keeps reads open, as it always did.
const legacyTokenName = "alerts.api_token"

// AccessFromConfig builds the access layer from the http block, reading
// tokens from the configuration, token files, the tokens file and the
// environment, and the session key file. apiToken is alerts.api_token.
func AccessFromConfig(h config.HTTP, apiToken string, log *slog.Logger) (*Access, error) {
	o := AccessOptions{
		UserHeader: h.Auth.UserHeader, GroupsHeader: h.Auth.GroupsHeader,
		AdminGroups: h.Auth.AdminGroups, AnalystGroups: h.Auth.AnalystGroups,
		SessionTTL: h.Auth.SessionTTL.D(), CORSOrigins: h.CORSOrigins,
		RateLimit: h.RateLimit.RPS, RateBurst: h.RateLimit.Burst,
		AuditFile: h.AuditFile, Log: log, RequireAuth: h.AuthConfigured(),
	}
	for i, t := range h.Auth.Tokens {
		key := fmt.Sprintf("http.auth.tokens[%d]", i)
		role, err := ParseRole(t.Role)
		if err != nil {
			return nil, fmt.Errorf("%s.role: %w", key, err)
		}
		v := string(t.Token)
		switch {
		case t.TokenFile != "":
			b, err := os.ReadFile(t.TokenFile)
			if err != nil {
				return nil, fmt.Errorf("%s.token_file: %w", key, err)
			}
			v = strings.TrimRight(string(b), "\r\n")
		case t.TokenEnv != "":
			v = os.Getenv(t.TokenEnv)
			if v == "" {
				return nil, fmt.Errorf("%s.token_env: $%s is empty or unset", key, t.TokenEnv)
			}
		}
		if len(v) < config.MinTokenLength {
			return nil, fmt.Errorf("%s: the token must be at least %d characters", key, config.MinTokenLength)
		}
		o.Tokens = append(o.Tokens, Token{Name: t.Name, Role: role, Value: v})
	}
	if h.Auth.TokensFile != "" {
		more, err := readTokensFile(h.Auth.TokensFile)
		if err != nil {
			return nil, fmt.Errorf("http.auth.tokens_file: %w", err)
		}
		o.Tokens = append(o.Tokens, more...)
	}
	if apiToken != "" {
		o.Tokens = append(o.Tokens, Token{Name: legacyTokenName, Role: RoleAdmin, Value: apiToken})
	}
	for i, p := range h.Auth.TrustedProxies {
		pr, err := netip.ParsePrefix(p)
		if err != nil {
			ip, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return nil, fmt.Errorf("http.auth.trusted_proxies[%d]: %q is not an address or CIDR prefix", i, p)
			}
			pr = netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen())
		}
		o.TrustedProxies = append(o.TrustedProxies, pr.Masked())
	}
	if h.Auth.SessionKeyFile != "" {
		b, err := os.ReadFile(h.Auth.SessionKeyFile)
		if err != nil {
			return nil, fmt.Errorf("http.auth.session_key_file: %w", err)
		}
		if b = bytes.TrimRight(b, "\r\n"); len(b) < 32 {
			return nil, fmt.Errorf("http.auth.session_key_file: the key must be at least 32 bytes, got %d", len(b))
		}
		o.SessionKey = b
	}
	return NewAccess(o)
}

// readTokensFile reads "name role token" lines; # starts a comment.
func readTokensFile(path string) ([]Token, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Token
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		// Never quote the line: it holds a token.
		if len(fields) != 3 {
			return nil, fmt.Errorf("%s:%d: want \"name role token\", got %d fields", path, line, len(fields))
		}
		if !config.ValidSubscriptionName(fields[0]) {
			return nil, fmt.Errorf("%s:%d: name must be 1-64 letters, digits, '-' or '_'", path, line)
		}
		role, err := ParseRole(fields[1])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if len(fields[2]) < config.MinTokenLength {
			return nil, fmt.Errorf("%s:%d: the token must be at least %d characters", path, line, config.MinTokenLength)
		}
		out = append(out, Token{Name: fields[0], Role: role, Value: fields[2]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// Close closes the audit file.
func (a *Access) Close() error {
	if a == nil {
		return nil
	}
	return a.audit.Close()
}

// Required reports whether every request must authenticate.
func (a *Access) Required() bool { return a.required }

func (a *Access) hasAdmin() bool {
	return len(a.proxies) > 0 || slices.ContainsFunc(a.tokens, func(t tokenEntry) bool { return t.role == RoleAdmin })
}

// lookupToken finds a token by its hash, comparing with every entry in
// constant time so that timing tells nothing of which, or how close.
func (a *Access) lookupToken(v string) (Identity, bool) {
	h := sha256.Sum256([]byte(v))
	found := -1
	for i := range a.tokens {
		if subtle.ConstantTimeCompare(h[:], a.tokens[i].hash[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Identity{}, false
	}
	t := a.tokens[found]
	return Identity{Name: t.name, Role: t.role, Via: ViaToken, tokenID: hex.EncodeToString(t.hash[:8])}, true
}

// peer is the address of the direct peer of the connection.
func peer(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		if ip, err := netip.ParseAddr(r.RemoteAddr); err == nil {
			return ip.Unmap()
		}
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

func (a *Access) trusted(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	for _, p := range a.proxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// clientIP is the peer, or behind trusted proxies the right-most address
// of X-Forwarded-For that is not one of them (the left part of the header
// is whatever the client wrote).
func (a *Access) clientIP(r *http.Request) netip.Addr {
	ip := peer(r)
	if !a.trusted(ip) {
		return ip
	}
	xff := strings.Join(r.Header.Values("X-Forwarded-For"), ",")
	parts := strings.Split(xff, ",")
	for i := len(parts) - 1; i >= 0; i-- {
		x, err := netip.ParseAddr(strings.TrimSpace(parts[i]))
		if err != nil {
			return ip // a garbled hop: stop at the last one we trust
		}
		x = x.Unmap()
		if !a.trusted(x) {
			return x
		}
		ip = x
	}
	return ip
}

// secure reports whether the browser reached us over TLS, directly or
// through a trusted proxy that says so.
func (a *Access) secure(r *http.Request) bool {
	return r.TLS != nil || (a.trusted(peer(r)) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"))
}

// authError is a failed authentication: a wrong token, forged proxy
// headers. It answers 401 and counts against the client's failures.
type authError struct{ msg string }

func (e *authError) Error() string { return e.msg }

// identify establishes who sent r. No credentials at all is not an error:
// it gives the zero Identity (or the anonymous analyst when access is
// open).
func (a *Access) identify(r *http.Request) (Identity, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return Identity{}, &authError{"missing or wrong bearer token: use Authorization: Bearer <token>"}
		}
		id, ok := a.lookupToken(strings.TrimSpace(tok))
		if !ok {
			return Identity{}, &authError{"missing or wrong bearer token"}
		}
		return id, nil
	}
	if len(a.proxies) > 0 {
		if user := r.Header.Get(a.userHeader); user != "" {
			if !a.trusted(peer(r)) {
				a.log.Warn("web: proxy identity header from an untrusted peer ignored", "peer", peer(r).String(), "header", a.userHeader)
				return Identity{}, &authError{a.userHeader + " is only believed from http.auth.trusted_proxies"}
			}
			return a.proxyIdentity(user, r.Header.Values(a.groupsHeader))
		}
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		if id, ok := a.verifySession(c.Value); ok {
			return id, nil
		}
		// An expired or stale cookie: not an attack, just sign in again.
	}
	if !a.required {
		return Identity{Name: "anonymous", Role: RoleAnalyst, Via: ViaAnonymous}, nil
	}
	return Identity{}, nil
}

func (a *Access) proxyIdentity(user string, groupHeaders []string) (Identity, error) {
	if len(user) > 256 || !validText(user) {
		return Identity{}, &authError{a.userHeader + ": not a user name"}
	}
	var groups []string
	for _, h := range groupHeaders {
		for _, g := range strings.Split(h, ",") {
			if g = strings.TrimSpace(g); g != "" {
				groups = append(groups, g)
			}
		}
	}
	in := func(list []string) bool {
		return slices.ContainsFunc(groups, func(g string) bool { return slices.Contains(list, g) })
	}
	id := Identity{Name: user, Via: ViaProxy}
	switch {
	case in(a.adminGroups):
		id.Role = RoleAdmin
	case len(a.analystGroups) == 0 || in(a.analystGroups):
		id.Role = RoleAnalyst
	default:
		return Identity{}, &authError{"user " + strconv.Quote(user) + " is in no group allowed to use Vigie"}
	}
	return id, nil
}

func validText(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return false
		}
	}
	return true
}

// ---- sessions ----

const sessionCookie = "vigie_session"

type sessionClaims struct {
	Name    string `json:"n"`
	Role    string `json:"r"`
	Expires int64  `json:"e"`
	TokenID string `json:"t"`
}

func (a *Access) signSession(id Identity) (string, time.Time) {
	exp := a.now().Add(a.sessionTTL)
	payload, _ := json.Marshal(sessionClaims{Name: id.Name, Role: id.Role.String(), Expires: exp.Unix(), TokenID: id.tokenID})
	mac := hmac.New(sha256.New, a.sessionKey)
	mac.Write(payload)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(mac.Sum(nil)), exp
}

func (a *Access) verifySession(v string) (Identity, bool) {
	p, s, ok := strings.Cut(v, ".")
	if !ok || len(v) > 1024 {
		return Identity{}, false
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(p)
	sig, err2 := enc.DecodeString(s)
	if err1 != nil || err2 != nil {
		return Identity{}, false
	}
	mac := hmac.New(sha256.New, a.sessionKey)
	mac.Write(payload)
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return Identity{}, false
	}
	var c sessionClaims
	if json.Unmarshal(payload, &c) != nil || a.now().Unix() >= c.Expires {
		return Identity{}, false
	}
	role, err := ParseRole(c.Role)
	if err != nil {
		return Identity{}, false
	}
	// The token the session came from must still exist, with that role.
	for _, t := range a.tokens {
		if t.name == c.Name && t.role == role && hex.EncodeToString(t.hash[:8]) == c.TokenID {
			return Identity{Name: c.Name, Role: role, Via: ViaSession, tokenID: c.TokenID}, true
		}
	}
	return Identity{}, false
}

func (a *Access) setSession(w http.ResponseWriter, r *http.Request, id Identity) {
	v, exp := a.signSession(id)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: v, Path: "/", Expires: exp, MaxAge: int(a.sessionTTL / time.Second),
		HttpOnly: true, Secure: a.secure(r), SameSite: http.SameSiteStrictMode})
}

func (a *Access) clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: a.secure(r), SameSite: http.SameSiteStrictMode})
}

// ---- rate limits ----

// limiters is a token bucket per client key, forgetting clients whose
// bucket has refilled (they are indistinguishable from new ones).
type limiters struct {
	mu        sync.Mutex
	limit     rate.Limit
	burst     int
	m         map[string]*limiterEntry
	lastSweep time.Time
}

type limiterEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

// maxClients bounds the memory of the limiters under a flood of clients.
const maxClients = 100_000

func newLimiters(l rate.Limit, burst int) *limiters {
	return &limiters{limit: l, burst: burst, m: map[string]*limiterEntry{}}
}

// refill is how long an idle bucket takes to fill up again.
func (l *limiters) refill() time.Duration {
	return time.Duration(float64(l.burst)/float64(l.limit)*float64(time.Second)) + time.Second
}

// allow takes one token of key's bucket; when there is none, it says how
// long until there is.
func (l *limiters) allow(key string, now time.Time) (bool, time.Duration) {
	return l.take(key, now, true)
}

// peek is allow without taking: whether key has a token left.
func (l *limiters) peek(key string, now time.Time) (bool, time.Duration) {
	return l.take(key, now, false)
}

func (l *limiters) take(key string, now time.Time, consume bool) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > time.Minute || len(l.m) >= maxClients {
		idle := l.refill()
		for k, e := range l.m {
			if now.Sub(e.seen) > idle {
				delete(l.m, k)
			}
		}
		l.lastSweep = now
	}
	e := l.m[key]
	if e == nil {
		if len(l.m) >= maxClients {
			key = "\x00overflow" // every new client shares one bucket until the flood ebbs
			e = l.m[key]
		}
		if e == nil {
			e = &limiterEntry{lim: rate.NewLimiter(l.limit, l.burst)}
			l.m[key] = e
		}
	}
	e.seen = now
	if consume && e.lim.AllowN(now, 1) || !consume && e.lim.TokensAt(now) >= 1 {
		return true, 0
	}
	need := 1 - e.lim.TokensAt(now)
	return false, time.Duration(need / float64(l.limit) * float64(time.Second))
}

func tooMany(w http.ResponseWriter, wait time.Duration, what string) {
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(1, secs)))
	writeJSON(w, http.StatusTooManyRequests, apiError{Error: what})
}

// ---- the middleware ----

// public paths need no identity: probes, the static bundle (public code),
// and the sign-in form.
func publicPath(p string) bool {
	switch p {
	case "/healthz", "/readyz", "/login", "/logout":
		return true
	}
	return strings.HasPrefix(p, "/static/")
}

// unlimited paths are not rate limited: probes must answer, and the
// static files are served from memory.
func unlimitedPath(p string) bool {
	return p == "/healthz" || p == "/readyz" || strings.HasPrefix(p, "/static/")
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// needs is the role a request needs: admin to change anything or read
// the audit log, analyst to read.
func needs(r *http.Request) Role {
	if !safeMethod(r.Method) || r.URL.Path == "/api/audit" || strings.HasPrefix(r.URL.Path, "/api/audit/") {
		return RoleAdmin
	}
	return RoleAnalyst
}

func (a *Access) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		if !a.corsAllowed(w, r) {
			return
		}
		if what := invalidUTF8(r); what != "" {
			// Text that is not UTF-8 would be echoed into pages and
			// logs as it came: refuse it before any handler runs.
			param, _ := strings.CutPrefix(what, "parameter ")
			if param == what {
				param = ""
			}
			writeJSON(w, http.StatusBadRequest, apiError{Error: what + ": not valid UTF-8", Param: param})
			return
		}
		if unlimitedPath(path) {
			next.ServeHTTP(w, r)
			return
		}
		now := a.now()
		ip := a.clientIP(r)
		ipKey := "ip:" + ip.String()
		// A client that keeps failing to authenticate is slowed down first.
		if ok, wait := a.failures.peek(ipKey, now); !ok {
			tooMany(w, wait, "too many failed sign-ins from this address; retry later")
			return
		}
		id, err := a.identify(r)
		key := ipKey
		if id.Role != RoleNone && id.Via != ViaAnonymous {
			key = "id:" + id.Via + ":" + id.Name
		}
		if ok, wait := a.limits.allow(key, now); !ok {
			tooMany(w, wait, "rate limit exceeded; retry later")
			return
		}
		if err != nil {
			a.failures.allow(ipKey, now)
			a.log.Warn("web: authentication failed", "remote", ip.String(), "path", path, "err", err)
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigie"`)
			writeJSON(w, http.StatusUnauthorized, apiError{Error: err.Error()})
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), identityKey{}, id))
		// Requests a browser may send on its own (cookies, proxy
		// sessions) must come from our own pages to change anything.
		if !safeMethod(r.Method) && id.Via != ViaToken {
			if err := a.cop.Check(r); err != nil {
				writeJSON(w, http.StatusForbidden, apiError{Error: "cross-origin request refused: " + err.Error()})
				return
			}
		}
		if publicPath(path) {
			next.ServeHTTP(w, r)
			return
		}
		need := needs(r)
		switch {
		case id.Role >= need:
			next.ServeHTTP(w, r)
		case id.Role == RoleNone && r.Method == http.MethodGet && !strings.HasPrefix(path, "/api/") && path != "/metrics":
			// A browser without a session: to the sign-in form and back.
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		case id.Role == RoleNone || (id.Via == ViaAnonymous && a.hasAdmin()):
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigie"`)
			writeJSON(w, http.StatusUnauthorized, apiError{Error: "authentication required: missing or wrong bearer token (Authorization: Bearer <token>), or sign in at /login"})
		case id.Via == ViaAnonymous:
			writeJSON(w, http.StatusForbidden, apiError{Error: "read-only: this needs the admin role and no admin token is configured; set alerts.api_token or http.auth.tokens"})
		default:
			writeJSON(w, http.StatusForbidden, apiError{Error: fmt.Sprintf("%s %s needs the %s role; %s is %s", r.Method, path, need, id.Name, id.Role)})
		}
	})
}

// invalidUTF8 names the part of the request target that is not valid
// UTF-8 once decoded ("path", or "parameter q"), or returns "".
func invalidUTF8(r *http.Request) string {
	if !utf8.ValidString(r.URL.Path) {
		return "path"
	}
	q := r.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the first bad one, always the same
	for _, k := range keys {
		if !utf8.ValidString(k) {
			return "a parameter name"
		}
		for _, v := range q[k] {
			if !utf8.ValidString(v) {
				return "parameter " + k
			}
		}
	}
	return ""
}

// corsAllowed applies CORS: allowed origins get Access-Control-Allow-Origin
// (never with credentials: cross-origin callers use bearer tokens) and
// their preflights answered; a preflight from any other origin is refused.
// It returns false when it answered the request itself.
func (a *Access) corsAllowed(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	allowed := origin != "" && a.cors[origin]
	h := w.Header()
	if len(a.cors) > 0 {
		h.Add("Vary", "Origin")
	}
	if allowed {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", "Retry-After, WWW-Authenticate")
	}
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return true
	}
	if !allowed {
		writeJSON(w, http.StatusForbidden, apiError{Error: "CORS: origin not allowed (http.cors_origins)"})
		return false
	}
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, PUT, DELETE")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return false
}

// ---- sign-in ----

// safeNext keeps a post-login redirect on this site: a path, not a URL
// ("//evil.example" and "/\evil.example" are URLs to browsers).
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, `/\`) ||
		strings.ContainsAny(next, "\r\n\x00") || !validText(next) || len(next) > 2048 {
		return "/"
	}
	return next
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.renderLogin(w, r, http.StatusOK, "")
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, code int, msg string) {
	var b strings.Builder
	data := map[string]any{"Next": safeNext(r.FormValue("next")), "Err": msg, "Open": !s.Access.required,
		"Proxy": len(s.Access.proxies) > 0}
	if err := s.tmpl.ExecuteTemplate(&b, "login.html", page{Title: "Sign in", Data: data}); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(b.String()))
}

// login exchanges a token for a session cookie, so that the browser
// never keeps the token itself.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	a := s.Access
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		s.renderLogin(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	id, ok := a.lookupToken(r.PostForm.Get("token"))
	if !ok {
		a.failures.allow("ip:"+a.clientIP(r).String(), a.now())
		a.log.Warn("web: sign-in failed", "remote", a.clientIP(r).String())
		s.renderLogin(w, r, http.StatusUnauthorized, "Wrong token.")
		return
	}
	a.setSession(w, r, id)
	a.log.Info("web: signed in", "identity", id.Name, "role", id.Role.String(), "remote", a.clientIP(r).String())
	http.Redirect(w, r, safeNext(r.PostForm.Get("next")), http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	s.Access.clearSession(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
