package mastodon

import (
	"html"
	"net/url"
	"strings"
)

// htmlText turns the HTML of a status (or an account note) into plain text
// and lists the links it carries.
//
// Mastodon sanitises what it serves to a small set of tags (p, br, a,
// span, lists, quotes, code), but Vigie may read any server speaking the
// API, so this is a forgiving tokenizer rather than a parser: it never
// fails, keeps all text (the "invisible" spans Mastodon uses to shorten
// long links hold the rest of the link, so they are kept), turns <br> into
// a line break and blocks into paragraphs, collapses whitespace as a
// browser would, and unescapes entities. It is a small stdlib converter
// rather than golang.org/x/net/html, which the module does not otherwise
// need.
//
// Links exclude mentions and hashtags (class "mention"/"hashtag", or
// rel="tag"): those are profile and tag pages on some instance, not
// something the author shared; they come back as Mentions and Hashtags.
// Elements of class "quote-inline" are skipped: they are the fallback
// "RE: <link>" Mastodon adds for clients that cannot show quote posts, and
// the quote itself is QuoteOf.
func htmlText(s string) (text string, links []string) {
	c := converter{src: s}
	c.run()
	return c.finish(), c.links
}

type converter struct {
	src   string
	out   strings.Builder
	links []string
	// pending is how many line breaks must precede the next text: 2
	// after a block ends or begins, 0 otherwise.
	pending int
	// space is true when a collapsed whitespace run waits to be written.
	space bool
	nl    int      // line breaks ending the output
	stack []string // open non-void elements
	// skipAt is the stack depth of an element whose content is skipped
	// (-1 when none).
	skipAt int
	pre    int // depth of <pre> elements, where whitespace is kept
}

var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true,
}

var blockElements = map[string]bool{
	"p": true, "div": true, "blockquote": true, "pre": true, "ul": true, "ol": true, "li": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "hr": true, "table": true,
	"tr": true, "section": true, "article": true, "header": true, "footer": true, "figure": true,
}

func (c *converter) run() {
	c.skipAt = -1
	s := c.src
	textStart := 0
	i := 0
	for i < len(s) {
		if s[i] != '<' {
			i++
			continue
		}
		c.text(s[textStart:i])
		end, ok := c.markup(i)
		if !ok {
			// A '<' that opens no markup is text.
			i++
			c.text("<")
			textStart = i
			continue
		}
		i = end
		textStart = i
	}
	c.text(s[textStart:])
}

// markup reads the comment, tag or declaration at s[i] ('<') and returns
// the index after it. ok is false when s[i] is a literal '<'.
func (c *converter) markup(i int) (end int, ok bool) {
	s := c.src
	rest := s[i+1:]
	switch {
	case strings.HasPrefix(rest, "!--"):
		if j := strings.Index(s[i+4:], "-->"); j >= 0 {
			return i + 4 + j + 3, true
		}
		return len(s), true
	case strings.HasPrefix(rest, "!") || strings.HasPrefix(rest, "?"):
		if j := strings.IndexByte(rest, '>'); j >= 0 {
			return i + 1 + j + 1, true
		}
		return len(s), true
	}
	closing := false
	j := i + 1
	if j < len(s) && s[j] == '/' {
		closing = true
		j++
	}
	if j >= len(s) || !isLetter(s[j]) {
		return 0, false
	}
	nameStart := j
	for j < len(s) && !isSpace(s[j]) && s[j] != '/' && s[j] != '>' {
		j++
	}
	name := strings.ToLower(s[nameStart:j])
	attrs, selfClosing, j := parseAttrs(s, j)
	if j < 0 {
		// The input ends inside the tag: drop it, as a browser does.
		return len(s), true
	}
	if closing {
		c.endTag(name)
	} else {
		c.startTag(name, attrs, selfClosing)
		if name == "script" || name == "style" {
			// Raw text up to the matching end tag is not content.
			k := indexFold(s[j:], "</"+name)
			if k < 0 {
				return len(s), true
			}
			k += j
			if e := strings.IndexByte(s[k:], '>'); e >= 0 {
				c.endTag(name)
				return k + e + 1, true
			}
			return len(s), true
		}
	}
	return j, true
}

type attr struct{ key, val string }

// parseAttrs reads attributes from s[j:] up to the closing '>'. It returns
// the index after '>' or -1 when the input ends first.
func parseAttrs(s string, j int) (attrs []attr, selfClosing bool, end int) {
	for {
		for j < len(s) && (isSpace(s[j]) || s[j] == '/') {
			if s[j] == '/' {
				selfClosing = true
			}
			j++
		}
		if j >= len(s) {
			return attrs, selfClosing, -1
		}
		if s[j] == '>' {
			return attrs, selfClosing, j + 1
		}
		selfClosing = false
		k := j
		for j < len(s) && !isSpace(s[j]) && s[j] != '/' && s[j] != '>' && s[j] != '=' {
			j++
		}
		if j == k { // a stray '=' with no name
			j++
			continue
		}
		key := strings.ToLower(s[k:j])
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		val := ""
		if j < len(s) && s[j] == '=' {
			j++
			for j < len(s) && isSpace(s[j]) {
				j++
			}
			if j < len(s) && (s[j] == '"' || s[j] == '\'') {
				q := s[j]
				e := strings.IndexByte(s[j+1:], q)
				if e < 0 {
					return attrs, selfClosing, -1
				}
				val = s[j+1 : j+1+e]
				j = j + 1 + e + 1
			} else {
				k := j
				for j < len(s) && !isSpace(s[j]) && s[j] != '>' {
					j++
				}
				val = s[k:j]
			}
		}
		if len(attrs) < 32 { // a hostile tag with thousands of attributes costs nothing more
			attrs = append(attrs, attr{key, html.UnescapeString(val)})
		}
	}
}

func (c *converter) startTag(name string, attrs []attr, selfClosing bool) {
	get := func(k string) string {
		for _, a := range attrs {
			if a.key == k {
				return a.val
			}
		}
		return ""
	}
	void := voidElements[name] || selfClosing
	skipping := c.skipAt >= 0
	if !void {
		c.stack = append(c.stack, name)
		if !skipping && hasToken(get("class"), "quote-inline") {
			c.skipAt = len(c.stack) - 1
			return
		}
		if name == "pre" {
			c.pre++
		}
	}
	if skipping {
		return
	}
	switch {
	case name == "br":
		c.write("\n")
		c.space = false
	case name == "li":
		c.breakBefore(1)
	case blockElements[name]:
		c.breakBefore(2)
	case name == "a":
		class := get("class")
		if hasToken(class, "mention") || hasToken(class, "hashtag") || hasToken(get("rel"), "tag") {
			return
		}
		if href := strings.TrimSpace(get("href")); href != "" {
			if u, err := url.Parse(href); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
				c.links = append(c.links, href)
			}
		}
	}
}

func (c *converter) endTag(name string) {
	// Close up to the most recent element of that name; an end tag with no
	// open element is ignored, as a browser does.
	for k := len(c.stack) - 1; k >= 0; k-- {
		if c.stack[k] != name {
			continue
		}
		for _, n := range c.stack[k:] {
			if n == "pre" {
				c.pre--
			}
		}
		c.stack = c.stack[:k]
		if c.skipAt >= len(c.stack) {
			c.skipAt = -1
			return
		}
		switch {
		case c.skipAt >= 0:
		case name == "li":
			c.breakBefore(1)
		case blockElements[name]:
			c.breakBefore(2)
		}
		return
	}
}

// breakBefore asks for n line breaks before the next text.
func (c *converter) breakBefore(n int) {
	if n > c.pending {
		c.pending = n
	}
	c.space = false
}

func (c *converter) text(raw string) {
	if raw == "" || c.skipAt >= 0 {
		return
	}
	t := html.UnescapeString(raw)
	if c.pre > 0 {
		c.flushBreaks()
		c.write(t)
		return
	}
	for len(t) > 0 {
		i := strings.IndexFunc(t, isSpaceRune)
		if i == 0 {
			if c.out.Len() > 0 {
				c.space = true
			}
			t = t[1:]
			continue
		}
		word := t
		if i > 0 {
			word = t[:i]
		}
		if c.pending > 0 {
			c.flushBreaks()
		} else if c.space && c.nl == 0 {
			c.write(" ")
		}
		c.space = false
		c.write(word)
		t = t[len(word):]
	}
}

// write appends s to the output, tracking its trailing line breaks.
func (c *converter) write(s string) {
	if s == "" {
		return
	}
	c.out.WriteString(s)
	trimmed := strings.TrimRight(s, "\n")
	if trimmed == "" {
		c.nl += len(s)
	} else {
		c.nl = len(s) - len(trimmed)
	}
}

func (c *converter) flushBreaks() {
	if c.out.Len() > 0 {
		for c.nl < c.pending {
			c.write("\n")
		}
	}
	c.pending = 0
	c.space = false
}

func (c *converter) finish() string {
	return strings.TrimSpace(c.out.String())
}

func hasToken(list, tok string) bool {
	for _, f := range strings.Fields(list) {
		if strings.EqualFold(f, tok) {
			return true
		}
	}
	return false
}

func isLetter(b byte) bool { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' }

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' }

func isSpaceRune(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' }

// indexFold is strings.Index ignoring ASCII case.
func indexFold(s, sub string) int {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		if strings.EqualFold(s[i:i+n], sub) {
			return i
		}
	}
	return -1
}
