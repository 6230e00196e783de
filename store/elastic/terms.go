package elastic

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Full-text search must match exactly what the embedded store matches
// (SQLite FTS5, tokenizer "unicode61 remove_diacritics 2"), and the
// Elasticsearch that can run here has no analysis-common module (not on
// Maven Central): no lowercase, asciifolding or elision filter, and the
// standard tokenizer differs from unicode61 anyway (it keeps "l'élection"
// whole and splits CJK into single characters). So the store tokenizes in
// Go, the same way on the indexed text and on the query, and Elasticsearch
// only splits the result on spaces (the built-in whitespace analyzer).
//
// The rules, those of unicode61:
//   - a token is a maximal run of letters, numbers and private-use
//     characters (categories L*, N*, Co); everything else separates;
//   - tokens are case-folded (code points below U+10000 only, as SQLite);
//   - diacritics are removed from Latin letters ("é" -> "e", "Œ" stays
//     "œ": SQLite's table has no ligatures either), and combining marks
//     (Mn) are dropped without splitting the token.
//
// One known difference: SQLite's tables are Unicode 6.1, and it treats
// characters assigned later (most emoji, e.g. U+1F642) as token
// characters; here they separate, as their current category says. A
// query for such a character alone matches nothing here.
//
// TestTermsMatchFTS5 compares this with FTS5 itself.

// terms returns the tokens of s as Elasticsearch will index them: folded
// tokens joined by single spaces.
func terms(s string) string {
	return strings.Join(tokens(s), " ")
}

// tokens splits s into folded tokens.
func tokens(s string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			out = append(out, b.String())
			b.Reset()
		}
	}
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		if r == utf8.RuneError && size <= 1 {
			flush()
			continue
		}
		if unicode.Is(unicode.Mn, r) {
			// A combining mark belongs to its token and, diacritics being
			// removed, adds nothing to it: "a\u0300b" is "ab".
			continue
		}
		if !isTokenChar(r) {
			flush()
			continue
		}
		b.WriteString(fold(r))
	}
	flush()
	return out
}

func isTokenChar(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)
}

// fold lower-cases r and removes its diacritics when it is a Latin letter.
func fold(r rune) string {
	if r < 0x10000 {
		r = unicode.ToLower(r)
	}
	if r < 0x80 || !unicode.Is(unicode.Latin, r) {
		return string(r)
	}
	d := norm.NFD.String(string(r))
	base, size := utf8.DecodeRuneInString(d)
	for _, m := range d[size:] {
		if !unicode.Is(unicode.Mn, m) {
			return string(r) // not a letter plus marks: keep it whole
		}
	}
	return string(base)
}
