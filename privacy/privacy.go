// Package privacy holds what Vigie does to limit the personal data it
// hands out: keyed pseudonyms for accounts in exports, briefings and
// webhook payloads (Pseudonymizer), and the parsing of the retention
// period after which raw posts are deleted from the store (ParseRetention).
//
// Why a keyed hash (HMAC-SHA256) and not a plain hash: handles are few and
// guessable, so SHA-256("alice") is reversed by hashing a list of known
// handles. With a secret key, only someone holding the key can link a
// pseudonym back to a handle (GDPR Art. 4(5): the "additional
// information" kept separately). The same key always gives the same
// pseudonym, so a network read in Monday's briefing can be followed in
// Tuesday's; rotating the key breaks that link on purpose.
//
// Pseudonymised data is still personal data under the GDPR (Recital 26):
// post texts can be searched on the platform to find their author. It
// lowers the risk of a briefing or an export leaking; it does not make it
// anonymous.
package privacy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Prefix starts every pseudonym, so a reader (and a test) can tell a
// pseudonym from a handle at a glance.
const Prefix = "acct_"

// hashBytes is how much of the HMAC a pseudonym keeps: 80 bits, 16 base32
// characters. Collisions among even 100 million accounts have a chance
// of about 4e-9, and the pseudonym stays short enough for a table cell.
const hashBytes = 10

// MinKeyBytes is the shortest key accepted. A short key could be guessed
// by brute force against a few known handle/pseudonym pairs.
const MinKeyBytes = 16

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Pseudonymizer replaces account identifiers by keyed pseudonyms. A nil
// *Pseudonymizer leaves everything unchanged, so callers hold one pointer
// and pass it whether pseudonymisation is on or off. It is safe for
// concurrent use; it holds no state but the key.
type Pseudonymizer struct {
	key []byte
}

// New returns a Pseudonymizer for key, which must be at least MinKeyBytes
// long. The key is copied and never printed (String hides it).
func New(key []byte) (*Pseudonymizer, error) {
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("privacy: key is %d bytes, need at least %d", len(key), MinKeyBytes)
	}
	return &Pseudonymizer{key: append([]byte(nil), key...)}, nil
}

// String hides the key, so a Pseudonymizer logged by mistake leaks
// nothing.
func (p *Pseudonymizer) String() string {
	if p == nil {
		return "privacy.Pseudonymizer(off)"
	}
	return "privacy.Pseudonymizer([redacted])"
}

// GoString hides the key from %#v.
func (p *Pseudonymizer) GoString() string { return p.String() }

// Enabled reports whether p rewrites anything.
func (p *Pseudonymizer) Enabled() bool { return p != nil }

// canonical is the form a handle is hashed in: no leading '@', trimmed,
// lower-cased (platforms match handles case-insensitively, so @Alice and
// @alice are one account), invalid UTF-8 replaced so that every input has
// one canonical form.
func canonical(handle string) string {
	h := strings.ToValidUTF8(handle, "\uFFFD")
	h = strings.TrimSpace(h)
	h = strings.TrimPrefix(h, "@")
	return strings.ToLower(h)
}

// Handle gives the pseudonym of a handle (or platform user ID) on a
// platform: "acct_" and 16 base32 characters. The platform is part of
// the hashed input, since "alice" on Twitter and "alice" on Mastodon are
// different people. An empty handle stays empty.
func (p *Pseudonymizer) Handle(platform, handle string) string {
	if p == nil {
		return handle
	}
	h := canonical(handle)
	if h == "" {
		return ""
	}
	mac := hmac.New(sha256.New, p.key)
	mac.Write([]byte(strings.ToLower(platform)))
	mac.Write([]byte{0})
	mac.Write([]byte(h))
	return Prefix + strings.ToLower(b32.EncodeToString(mac.Sum(nil)[:hashBytes]))
}

// Account gives the pseudonym of an account key "platform:author": the
// platform is kept ("twitter:acct_..."), so the key keeps its form and
// tools that split it on ':' still work. A key without a platform is
// hashed as a bare handle of no platform.
func (p *Pseudonymizer) Account(key string) string {
	if p == nil || key == "" {
		return key
	}
	platform, author, ok := strings.Cut(key, ":")
	if !ok {
		return p.Handle("", key)
	}
	return platform + ":" + p.Handle(platform, author)
}

// Text rewrites the @mentions of text into pseudonyms of the given
// platform, and the links in it as URL does, leaving everything else as
// it is. A mention is '@' not preceded by a letter, digit or '_' (so
// e-mail addresses stay), followed by handle characters: letters, digits,
// '_', and for Mastodon-style mentions "@user@instance.tld" the '@', '.'
// and '-' of the instance. A link is a run of non-space characters
// starting with http:// or https://. A text with neither '@' nor "://"
// is returned as it is; otherwise invalid UTF-8 is replaced by U+FFFD
// first, so the output is valid UTF-8.
func (p *Pseudonymizer) Text(platform, text string) string {
	if p == nil || (!strings.Contains(text, "@") && !strings.Contains(text, "://")) {
		return text
	}
	text = strings.ToValidUTF8(text, "\uFFFD")
	if !strings.Contains(text, "://") {
		return p.mentions(platform, text)
	}
	var b strings.Builder
	for text != "" {
		i := strings.Index(text, "http://")
		if j := strings.Index(text, "https://"); j >= 0 && (i < 0 || j < i) {
			i = j
		}
		if i < 0 {
			b.WriteString(p.mentions(platform, text))
			break
		}
		b.WriteString(p.mentions(platform, text[:i]))
		end := strings.IndexFunc(text[i:], unicode.IsSpace)
		if end < 0 {
			end = len(text) - i
		}
		b.WriteString(p.URL(text[i : i+end]))
		text = text[i+end:]
	}
	return b.String()
}

// mentions rewrites the @mentions of valid UTF-8 text (see Text).
func (p *Pseudonymizer) mentions(platform, text string) string {
	if !strings.Contains(text, "@") {
		return text
	}
	var b strings.Builder
	b.Grow(len(text) + 16)
	prev := rune(-1)
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if r != '@' || isHandleRune(prev) {
			b.WriteString(text[i : i+size])
			prev = r
			i += size
			continue
		}
		end := mentionEnd(text, i+1)
		if end == i+1 {
			b.WriteByte('@')
			prev = r
			i++
			continue
		}
		b.WriteString(p.Handle(platform, text[i+1:end]))
		prev = 'x' // a pseudonym ends with a handle character
		i = end
	}
	return b.String()
}

func isHandleRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// mentionEnd gives the end of the handle starting at i: handle runes,
// then at most one "@instance" part of handle runes, dots and hyphens
// (a trailing dot or hyphen is punctuation, not part of the instance).
func mentionEnd(s string, i int) int {
	j := i
	for j < len(s) {
		r, size := utf8.DecodeRuneInString(s[j:])
		if !isHandleRune(r) {
			break
		}
		j += size
	}
	if j == i || j >= len(s) || s[j] != '@' {
		return j
	}
	k := j + 1
	last := k
	for k < len(s) {
		r, size := utf8.DecodeRuneInString(s[k:])
		if !(isHandleRune(r) || r == '.' || r == '-') {
			break
		}
		k += size
		if r != '.' && r != '-' {
			last = k
		}
	}
	if last == j+1 {
		return j // "@user@" followed by nothing handle-like
	}
	return last
}

// Mentions gives the pseudonyms of a list of mentioned handles.
func (p *Pseudonymizer) Mentions(platform string, handles []string) []string {
	if p == nil || handles == nil {
		return handles
	}
	out := make([]string, len(handles))
	for i, h := range handles {
		out[i] = p.Handle(platform, h)
	}
	return out
}

// ParseRetention reads a retention period: a Go duration ("720h") or a
// whole number of days ("30d"). "0", "" and "0d" mean keep forever (0).
// A negative period is an error.
func ParseRetention(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n < 0 || n > 100*365 {
			return 0, fmt.Errorf("%q is not a number of days like 30d (0 to 36500)", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration like 720h or a number of days like 30d", s)
	}
	if d < 0 {
		return 0, errors.New("must not be negative")
	}
	return d, nil
}
