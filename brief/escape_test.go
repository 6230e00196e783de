package brief

import (
	"fmt"
	"html"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store/sqlite"
)

// Briefings quote what the watched accounts wrote, and are read in
// browsers, mail clients and Markdown viewers: nothing of it may become
// markup, a link or a script.

var payloads = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(2)>`,
	`'><svg onload=alert(3)>`,
	`javascript:alert(4)`,
	`[click](javascript:alert(5))`,
	`![x](https://evil.example/pixel.png)`,
}

// hostileReport builds the briefing of a day whose posts, accounts,
// hashtags, links, cluster labels, reasons and stance targets are all
// hostile.
func hostileReport(t *testing.T, charts bool) *Report {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "vigie.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var ps []post.Post
	var members, keys []string
	for i, p := range payloads {
		author := fmt.Sprintf("bot%d%s", i, p)
		ps = append(ps, post.Post{Platform: post.PlatformTwitter, ID: fmt.Sprintf("%d%s", 100+i, p), Author: author,
			Time: day.Add(9*time.Hour + time.Duration(i)*10*time.Second), Lang: "fr", Text: "texte " + p,
			Hashtags: []string{"h" + p, "MacronLeaks"}, URLs: []string{p, "https://leak.example.org/?" + p}, Mentions: []string{p}})
		members = append(members, "twitter:"+author)
		keys = append(keys, ps[i].Key())
	}
	if err := s.PutPosts(t.Context(), ps); err != nil {
		t.Fatal(err)
	}
	c := post.Cluster{ID: "c-hostile", Status: post.StatusActive, Platform: post.PlatformTwitter, Detected: day.Add(10 * time.Hour),
		FirstSeen: day.Add(9 * time.Hour), LastSeen: day.Add(10 * time.Hour), Members: members, Posts: keys,
		Signals:    map[post.Kind]int{post.KindLink: 3},
		TopObjects: []post.KeyCount{{Kind: post.KindLink, Key: payloads[3], Count: 6}, {Kind: post.KindHashtag, Key: payloads[0], Count: 6}, {Kind: post.KindDomain, Key: payloads[1], Count: 6}},
		Scores:     post.Scores{Risk: 88, Reasons: payloads},
		Stance:     map[string]post.StanceScore{payloads[0]: {Smear: 0.9}, payloads[4]: {Favour: 0.4}},
		Target:     payloads[1], TargetStance: payloads[2], BotShare: 0.5,
		Extra: map[string]any{"label": payloads[0]}}
	for i := 1; i < len(members); i++ {
		c.Edges = append(c.Edges, post.Edge{A: members[0], B: members[i], Weight: 3, First: c.FirstSeen, Last: c.LastSeen})
	}
	c.EdgeCount = len(c.Edges)
	if err := s.PutClusters(t.Context(), []post.Cluster{c}); err != nil {
		t.Fatal(err)
	}
	rep, err := Build(t.Context(), s, Options{Date: "2017-05-05", BaseURL: "http://vigie.test", Final: true,
		Now: time.Date(2017, 5, 6, 6, 0, 0, 0, time.UTC), NoCharts: !charts})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Examples) == 0 || len(rep.New) == 0 {
		t.Fatalf("the fixture gave no new cluster or example: %+v", rep)
	}
	return rep
}

var (
	tagRe  = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s=>/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*/?>`)
	attrRe = regexp.MustCompile(`([^\s=>/]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?`)
	// The elements of briefing.html.
	briefTags = map[string]bool{"a": true, "blockquote": true, "body": true, "code": true, "figcaption": true, "figure": true, "footer": true,
		"h1": true, "h2": true, "head": true, "html": true, "img": true, "li": true, "meta": true, "p": true, "span": true, "strong": true,
		"style": true, "table": true, "tbody": true, "td": true, "th": true, "thead": true, "title": true, "tr": true, "ul": true}
)

// htmlProblems lists markup in page that did not come from briefing.html:
// foreign elements, event handlers, links that are not http(s), images
// that are not the embedded charts.
func htmlProblems(page string) []string {
	var out []string
	for _, p := range payloads {
		if strings.ContainsAny(p, "<>\"'") && strings.Contains(page, p) {
			out = append(out, fmt.Sprintf("payload %q unescaped", p))
		}
	}
	for _, m := range tagRe.FindAllStringSubmatch(page, -1) {
		tag := strings.ToLower(m[1])
		if !briefTags[tag] {
			out = append(out, fmt.Sprintf("foreign element %q", m[0]))
		}
		for _, a := range attrRe.FindAllStringSubmatch(m[2], -1) {
			name, v := strings.ToLower(a[1]), strings.TrimSpace(html.UnescapeString(strings.Trim(a[2], `"'`)))
			switch {
			case strings.HasPrefix(name, "on") || name == "style" || name == "srcdoc":
				out = append(out, fmt.Sprintf("attribute %s in %q", name, m[0]))
			case name == "href" && !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://"):
				out = append(out, fmt.Sprintf("link %q", v))
			case name == "src" && !strings.HasPrefix(v, "data:image/png;base64,"):
				out = append(out, fmt.Sprintf("image %q", v))
			}
		}
	}
	if !utf8.ValidString(page) {
		out = append(out, "not valid UTF-8")
	}
	return out
}

func TestHTMLEscapesHostileText(t *testing.T) {
	rep := hostileReport(t, true)
	page, err := rep.HTML()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range htmlProblems(page) {
		t.Error(p)
	}
	// The text is there, escaped: the reader must see what was written.
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;"} {
		if !strings.Contains(page, want) {
			t.Errorf("escaped payload %q not shown", want)
		}
	}
}

// mdLink is a Markdown link or image: [text](target).
var mdLink = regexp.MustCompile(`!?\[((?:[^\]\\]|\\.)*)\]\(([^)\s]*)`)

func TestMarkdownEscapesHostileText(t *testing.T) {
	rep := hostileReport(t, false)
	md := rep.Markdown()
	// Markdown viewers pass HTML through: not one tag may be in it.
	if m := regexp.MustCompile(`<[a-zA-Z!/?]`).FindString(md); m != "" {
		t.Errorf("Markdown holds raw HTML %q", m)
	}
	// Every link and image is Vigie's own: its UI, the platform, a chart.
	links := 0
	for _, m := range mdLink.FindAllStringSubmatchIndex(md, -1) {
		if m[0] > 0 && md[m[0]-1] == '\\' {
			continue // an escaped bracket: text
		}
		links++
		target := md[m[4]:m[5]]
		if !strings.HasPrefix(target, "http://vigie.test/") && !strings.HasPrefix(target, "https://twitter.com/i/web/status/") &&
			!(strings.HasPrefix(target, "2017-05-05-") && strings.HasSuffix(target, ".png")) {
			t.Errorf("Markdown link to %q: %q", target, md[m[0]:m[1]])
		}
	}
	// The cluster, and an example on the platform and in Vigie.
	if links < 3 {
		t.Errorf("only %d links found: the check reads nothing", links)
	}
	if !strings.Contains(md, `texte &lt;script&gt;alert(1)&lt;/script&gt;`) {
		t.Errorf("the escaped post text is not quoted:\n%s", md)
	}
}

func TestHTMLProblemsCatch(t *testing.T) {
	for _, bad := range []string{`<p><img src=x onerror=alert(1)></p>`, `<a href="javascript:alert(1)">`, `<script>x</script>`, `<a href="/relative">`} {
		if len(htmlProblems(bad)) == 0 {
			t.Errorf("%q passed", bad)
		}
	}
}
