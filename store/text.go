package store

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// TextTerm is one term of a full-text query as PostQuery.Text defines it.
// Backends translate terms into their own query language, quoting them, so
// that the user's text is never read as operators.
type TextTerm struct {
	// Text is a word, or the words of a phrase as the user typed them.
	// It never holds a NUL byte, invalid UTF-8 or a double quote.
	Text   string
	Phrase bool // the words must appear together, in order
	Prefix bool // the last word matches as a prefix
}

// ParseText splits a PostQuery.Text into terms. It is total: any string
// gives a (possibly empty) list, and terms with no letter or digit, which
// no index could match, are dropped. At most MaxQueryTerms are returned.
func ParseText(s string) []TextTerm {
	// NUL ends a string in SQLite's FTS parser and invalid UTF-8 means
	// nothing to a tokenizer: both become separators.
	s = strings.ToValidUTF8(s, " ")
	s = strings.ReplaceAll(s, "\x00", " ")

	var terms []TextTerm
	add := func(text string, phrase bool) {
		prefix := false
		if t := strings.TrimRight(text, "*"); t != text {
			prefix, text = true, t
		}
		text = strings.TrimSpace(text)
		if !hasWordChar(text) || len(terms) >= MaxQueryTerms {
			return
		}
		terms = append(terms, TextTerm{Text: text, Phrase: phrase, Prefix: prefix})
	}
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		switch {
		case unicode.IsSpace(r):
			s = s[size:]
		case r == '"':
			// A phrase runs to the next quote, or to the end when the
			// quote is unbalanced; a * right after the closing quote
			// makes it a prefix phrase.
			s = s[size:]
			end := strings.IndexByte(s, '"')
			if end < 0 {
				end = len(s)
			}
			text := s[:end]
			s = s[min(end+1, len(s)):]
			if strings.HasPrefix(s, "*") {
				text += "*"
				s = strings.TrimLeft(s, "*")
			}
			add(text, true)
		default:
			end := strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '"' })
			if end < 0 {
				end = len(s)
			}
			add(s[:end], false)
			s = s[end:]
		}
	}
	return terms
}

func hasWordChar(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) })
}
