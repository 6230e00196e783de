package ingest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/abadojack/whatlanggo"

	"github.com/vigie-osint/vigie/netguard"
	"github.com/vigie-osint/vigie/post"
)

// trackingParams are query parameters that identify the click, not the
// page. Two accounts pushing the same article with different utm_source
// values share the same object, so these are removed before URLs are
// compared.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "dclid": true, "gbraid": true, "wbraid": true, "msclkid": true,
	"yclid": true, "igshid": true, "mc_cid": true, "mc_eid": true, "_ga": true, "_gl": true,
	"ref_src": true, "ref_url": true, "cmpid": true, "xtor": true, "at_medium": true, "at_campaign": true,
	"__twitter_impression": true, "s_cid": true, "mkt_tok": true, "oly_enc_id": true, "oly_anon_id": true,
	"vero_id": true, "wt_mc": true, "ncid": true, "ocid": true, "smid": true, "feature": true,
}

// CanonicalURL returns the form of raw under which Vigie compares links:
// scheme and host lower-cased, default ports, fragments and tracking
// parameters removed, remaining parameters sorted, a trailing slash
// dropped from non-root paths. Non-HTTP URLs are returned trimmed and
// otherwise unchanged; an unparsable one is an error.
func CanonicalURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("url %q: %w", raw, err)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		if u.Scheme == "" && u.Host == "" && strings.Contains(u.Path, ".") && !strings.Contains(raw, " ") {
			// "example.org/a": a link written without its scheme.
			return CanonicalURL("http://" + raw)
		}
		return raw, nil
	}
	if u.Host == "" {
		return "", fmt.Errorf("url %q: no host", raw)
	}
	u.Scheme = scheme
	host := strings.ToLower(u.Hostname())
	host = strings.TrimRight(host, ".")
	if host == "" {
		return "", fmt.Errorf("url %q: no host", raw)
	}
	if !utf8.ValidString(host) || strings.ContainsAny(host, " %\x00") {
		return "", fmt.Errorf("url %q: invalid host", raw)
	}
	if port := u.Port(); port != "" && !(scheme == "http" && port == "80") && !(scheme == "https" && port == "443") {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]" // an IPv6 literal keeps its brackets
	}
	u.Host = host
	u.User = nil
	u.Fragment, u.RawFragment = "", ""
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			lk := strings.ToLower(k)
			if strings.HasPrefix(lk, "utm_") || trackingParams[lk] {
				q.Del(k)
			}
		}
		u.RawQuery = encodeSorted(q)
	}
	u.ForceQuery = false
	if len(u.Path) > 1 && strings.HasSuffix(u.Path, "/") {
		u.Path = strings.TrimRight(u.Path, "/")
		u.RawPath = ""
	}
	if u.Path == "/" {
		u.Path = ""
	}
	return u.String(), nil
}

func encodeSorted(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(v))
		}
	}
	return b.String()
}

// Domain returns the host of a canonical URL without a leading "www.", the
// key of the domain-level co-link signal.
func Domain(canonical string) string {
	u, err := url.Parse(canonical)
	if err != nil || u.Host == "" {
		return ""
	}
	return strings.TrimPrefix(u.Hostname(), "www.")
}

// DetectLanguage returns the ISO 639-1 code of text's language, or "" when
// the text is too short or the guess is not reliable. whatlanggo is used
// rather than lingua-go, which is more accurate on short texts but embeds
// 124 MB of models into the binary; a post's own language tag, when the
// platform gives one, always wins.
func DetectLanguage(text string) string {
	if len([]rune(text)) < 20 {
		return ""
	}
	info := whatlanggo.Detect(text)
	if !info.IsReliable() {
		return ""
	}
	return info.Lang.Iso6391()
}

// Normaliser applies the normalisation every source shares: canonical
// URLs (optionally expanding shorteners), case-folded hashtags and
// mentions, language detection when missing, and dropping posts already
// seen by platform ID.
type Normaliser struct {
	// Resolver expands shortened links; nil leaves them as they are.
	Resolver *Resolver
	// DetectLanguage fills Lang when the source gave none.
	DetectLanguage bool
	// EditablePlatforms are the platforms whose posts can be edited under
	// the same ID; nil means Mastodon and Bluesky (see Apply). Other
	// platforms keep the first version of a key: CooRTweet's German CSV,
	// for one, repeats a post ID on one row per shared object.
	EditablePlatforms map[post.Platform]bool
	seen              *recentSet
}

// defaultEditable are the platforms whose sources deliver edits.
var defaultEditable = map[post.Platform]bool{post.PlatformMastodon: true, post.PlatformBluesky: true}

func (n *Normaliser) editable(pl post.Platform) bool {
	if n.EditablePlatforms != nil {
		return n.EditablePlatforms[pl]
	}
	return defaultEditable[pl]
}

// contentHash is FNV-1a over the post's published content. It is never 0,
// which marks a key remembered without content.
func contentHash(p *post.Post) uint64 {
	h := fnv.New64a()
	w := func(s string) { h.Write([]byte(s)); h.Write([]byte{0}) }
	w(p.Author)
	w(p.Time.UTC().Format(time.RFC3339Nano))
	w(p.Text)
	w(p.Lang)
	w(p.ReplyTo)
	w(p.RepostOf)
	w(p.QuoteOf)
	for _, l := range [][]string{p.URLs, p.Hashtags, p.Mentions, p.MediaHashes} {
		for _, s := range l {
			w(s)
		}
		h.Write([]byte{1})
	}
	if v := h.Sum64(); v != 0 {
		return v
	}
	return 1
}

// NewNormaliser returns a normaliser remembering the last dedupe post
// keys (0 = 250,000, as config's ingest.dedupe) to drop duplicates.
func NewNormaliser(dedupe int) *Normaliser {
	if dedupe <= 0 {
		dedupe = 250_000
	}
	return &Normaliser{seen: newRecentSet(dedupe)}
}

// ErrDuplicate is returned for a post whose key was seen recently.
var ErrDuplicate = errors.New("duplicate post")

// Apply normalises p in place. It returns ErrDuplicate for a post seen
// before (the caller counts and skips it: a duplicate is not bad input),
// and a *post.FieldError when a URL cannot be parsed.
//
// A post whose key was seen is an edit, not a duplicate, when its platform
// allows editing (EditablePlatforms) and its content differs from the
// version seen: Mastodon's status.update and Bluesky's update commits
// carry the same ID with new text or links, and the store must receive
// them to overwrite the old version. An exact redelivery (the same
// content again, as a reconnection's catch-up or a file-then-live overlap
// gives) is still dropped. Content is compared by a 64-bit hash of the
// normalised post without its account snapshot, whose counters change on
// every read.
func (n *Normaliser) Apply(ctx context.Context, p *post.Post) error {
	Normalise(p)
	if n.seen != nil {
		var fp uint64
		if n.editable(p.Platform) {
			fp = contentHash(p)
		}
		if !n.seen.add(p.Key(), fp) {
			return ErrDuplicate
		}
	}
	for i, raw := range p.URLs {
		c, err := CanonicalURL(raw)
		if err != nil {
			return &post.FieldError{Record: p.Key(), Field: fmt.Sprintf("urls[%d]", i), Reason: err.Error()}
		}
		if n.Resolver != nil {
			if exp, err := n.Resolver.Expand(ctx, c); err == nil {
				c = exp
			}
		}
		p.URLs[i] = c
	}
	p.URLs = normList(p.URLs, func(s string) string { return s })
	if p.Lang == "" && n.DetectLanguage && p.RepostOf == "" {
		p.Lang = DetectLanguage(p.Text)
	}
	return nil
}

// recentSet remembers roughly the last n keys in two generations: when
// the current one fills, it becomes the previous one. Memory is bounded
// by 2n keys and a key is forgotten only after at least n newer ones.
// Each key keeps the content hash of its last version (0: not compared).
//
// Keys are held as 128-bit digests, not strings: a post key is 30 to 60
// bytes and, held by the set, kept its whole post-key string alive: the
// load test's heap profile showed 46 MB for 650,000 keys, on the way to
// about 140 MB at the bound of 2 million keys of the time.
// Digests take 16 bytes, and two distinct keys share one with odds of
// about (2n)²/2¹²⁹ (10⁻²⁷ at the default), far below any hardware fault.
type recentSet struct {
	n         int
	cur, prev map[keyDigest]uint64
}

// keyDigest is the first 16 bytes of a key's SHA-256.
type keyDigest [16]byte

func digestKey(k string) keyDigest {
	sum := sha256.Sum256([]byte(k))
	return keyDigest(sum[:16])
}

func newRecentSet(n int) *recentSet {
	return &recentSet{n: n, cur: make(map[keyDigest]uint64), prev: make(map[keyDigest]uint64)}
}

// add records k with content hash fp and reports whether it is new: an
// unseen key, or (fp != 0) a known key whose content changed.
func (s *recentSet) add(key string, fp uint64) bool {
	k := digestKey(key)
	old, ok := s.cur[k]
	if !ok {
		old, ok = s.prev[k]
	}
	if ok && (fp == 0 || old == fp) {
		return false
	}
	if _, inCur := s.cur[k]; inCur {
		s.cur[k] = fp
		return true
	}
	if len(s.cur) >= s.n {
		s.prev, s.cur = s.cur, make(map[keyDigest]uint64, s.n)
	}
	s.cur[k] = fp
	return true
}

// Shorteners are the hosts whose links the Resolver expands.
var Shorteners = map[string]bool{
	"bit.ly": true, "t.co": true, "ow.ly": true, "tinyurl.com": true, "goo.gl": true, "buff.ly": true,
	"dlvr.it": true, "ift.tt": true, "fb.me": true, "is.gd": true, "lnkd.in": true, "trib.al": true,
	"tiny.cc": true, "rebrand.ly": true, "shorturl.at": true, "cutt.ly": true, "bl.ink": true, "s.id": true,
}

// Resolver expands shortened links by following their redirects with HEAD
// requests, without fetching pages. Results (and failures) are cached, so
// a link pushed by a thousand accounts costs one request. It refuses to
// connect to loopback, private and link-local addresses unless
// AllowPrivate is set, so a hostile link cannot make Vigie probe its own
// network.
type Resolver struct {
	Client       *http.Client  // nil = a client with Timeout
	Timeout      time.Duration // per expansion; default 3s
	MaxHops      int           // default 5
	CacheSize    int           // default 100,000 links
	AllowPrivate bool
	// Hosts overrides Shorteners (tests point it at a loopback server).
	Hosts map[string]bool

	once  sync.Once
	mu    sync.Mutex
	cache *lru
}

func (r *Resolver) init() {
	r.once.Do(func() {
		if r.Timeout <= 0 {
			r.Timeout = 3 * time.Second
		}
		if r.MaxHops <= 0 {
			r.MaxHops = 5
		}
		if r.CacheSize <= 0 {
			r.CacheSize = 100_000
		}
		if r.Hosts == nil {
			r.Hosts = Shorteners
		}
		if r.Client == nil {
			dialer := &net.Dialer{Timeout: r.Timeout}
			tr := &http.Transport{
				DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
					conn, err := dialer.DialContext(ctx, network, addr)
					if err != nil {
						return nil, err
					}
					if !r.AllowPrivate {
						if ta, ok := conn.RemoteAddr().(*net.TCPAddr); ok && !publicIP(ta.IP) {
							conn.Close()
							return nil, fmt.Errorf("refusing to connect to non-public address %s", ta.IP)
						}
					}
					return conn, nil
				},
				MaxIdleConnsPerHost: 4,
				IdleConnTimeout:     30 * time.Second,
			}
			r.Client = &http.Client{Transport: tr}
		}
		r.cache = newLRU(r.CacheSize)
	})
}

// publicIP is netguard's definition, shared with the webhook sender.
func publicIP(ip net.IP) bool { return netguard.Public(ip) }

type resolved struct {
	url string
	err error
}

// Expand returns the final URL behind a shortened canonical URL, itself
// canonical; a URL on no shortener host comes back unchanged.
func (r *Resolver) Expand(ctx context.Context, canonical string) (string, error) {
	r.init()
	u, err := url.Parse(canonical)
	if err != nil || !r.Hosts[strings.TrimPrefix(u.Hostname(), "www.")] {
		return canonical, nil
	}
	r.mu.Lock()
	if v, ok := r.cache.get(canonical); ok {
		r.mu.Unlock()
		return v.url, v.err
	}
	r.mu.Unlock()
	out, err := r.follow(ctx, canonical)
	if err != nil {
		out = canonical
	}
	r.mu.Lock()
	r.cache.put(canonical, resolved{out, err})
	r.mu.Unlock()
	return out, err
}

func (r *Resolver) follow(ctx context.Context, start string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	cur := start
	for hop := 0; hop < r.MaxHops; hop++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodHead, cur, nil)
		if err != nil {
			return "", err
		}
		req.Header.Set("User-Agent", "Vigie link resolver")
		client := *r.Client
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		res, err := client.Do(req)
		if err != nil {
			return "", fmt.Errorf("expand %s: %w", start, err)
		}
		res.Body.Close()
		if res.StatusCode < 300 || res.StatusCode >= 400 {
			return CanonicalURL(cur)
		}
		loc, err := res.Location()
		if err != nil {
			return "", fmt.Errorf("expand %s: redirect without a location: %w", start, err)
		}
		cur = loc.String()
		lu, _ := url.Parse(cur)
		if lu == nil || !r.Hosts[strings.TrimPrefix(lu.Hostname(), "www.")] {
			return CanonicalURL(cur) // left the shorteners: no need to request the page
		}
	}
	return "", fmt.Errorf("expand %s: more than %d redirects", start, r.MaxHops)
}

// lru is a small least-recently-used cache.
type lru struct {
	n     int
	items map[string]*lruItem
	head  lruItem // sentinel: head.next is the most recent
}

type lruItem struct {
	key        string
	val        resolved
	prev, next *lruItem
}

func newLRU(n int) *lru {
	l := &lru{n: n, items: make(map[string]*lruItem)}
	l.head.next, l.head.prev = &l.head, &l.head
	return l
}

func (l *lru) unlink(it *lruItem) { it.prev.next, it.next.prev = it.next, it.prev }

func (l *lru) front(it *lruItem) {
	it.next, it.prev = l.head.next, &l.head
	l.head.next.prev = it
	l.head.next = it
}

func (l *lru) get(k string) (resolved, bool) {
	it, ok := l.items[k]
	if !ok {
		return resolved{}, false
	}
	l.unlink(it)
	l.front(it)
	return it.val, true
}

func (l *lru) put(k string, v resolved) {
	if it, ok := l.items[k]; ok {
		it.val = v
		l.unlink(it)
		l.front(it)
		return
	}
	if len(l.items) >= l.n {
		old := l.head.prev
		l.unlink(old)
		delete(l.items, old.key)
	}
	it := &lruItem{key: k, val: v}
	l.items[k] = it
	l.front(it)
}
