package web

import (
	"fmt"
	"html/template"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// templateFuncs are the helpers the page templates use. None of them
// returns a template.HTML: every value stays plain text, escaped by
// html/template in its context.
func (s *Server) templateFuncs() template.FuncMap {
	return template.FuncMap{
		"time":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
		"unixtime": func(sec int64) string { return time.Unix(sec, 0).UTC().Format("2006-01-02 15:04") },
		"isotime":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"percent":  func(x float64) string { return fmt.Sprintf("%.0f%%", 100*x) },
		"risk":     func(x float64) string { return strconv.FormatFloat(math.Round(x), 'f', 0, 64) },
		// riskClass names the colour band of a risk; the text always says
		// the number too, so colour is never the only cue.
		"riskClass": func(x float64) string {
			switch {
			case x >= 70:
				return "hi"
			case x >= 40:
				return "mid"
			}
			return "lo"
		},
		"signed": func(x float64) string { return fmt.Sprintf("%+.2f", x) },
		"stanceWord": func(x float64) string {
			switch {
			case x >= 0.1:
				return "favours"
			case x <= -0.1:
				return "smears"
			}
			return "neutral"
		},
		// short cuts long text for tables; the full text is on the post page.
		"short": func(n int, s string) string {
			if utf8.RuneCountInString(s) <= n {
				return s
			}
			r := []rune(s)
			return string(r[:n]) + "…"
		},
		// handle shows an account key without its platform prefix.
		"handle": func(key string) string {
			if _, h, ok := strings.Cut(key, ":"); ok {
				return h
			}
			return key
		},
		"asset": func(path string) string {
			if v := s.static.version(path); v != "" {
				return "/static/" + path + "?v=" + v
			}
			return "/static/" + path
		},
		// page builds a query string for a paging link: q with offset set.
		"page": func(q url.Values, offset int) string {
			c := url.Values{}
			for k, v := range q {
				c[k] = v
			}
			if offset > 0 {
				c.Set("offset", strconv.Itoa(offset))
			}
			return c.Encode()
		},
		"add": func(a, b int) int { return a + b },
	}
}
