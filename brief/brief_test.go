package brief

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store"
	"github.com/vigie-osint/vigie/store/sqlite"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"))
}

var day = time.Date(2017, 5, 5, 0, 0, 0, 0, time.UTC)

// fixture stores two days of posts and three clusters: one new on the
// day (smearing macron, pushing a link), one older that grows, one older
// that went quiet the day before and fades.
func fixture(t *testing.T) *sqlite.Store { return fixtureTB(t) }

func fixtureTB(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "vigie.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var ps []post.Post
	add := func(id, author string, at time.Time, text string, tags []string, urls ...string) {
		ps = append(ps, post.Post{Platform: post.PlatformTwitter, ID: id, Author: author, Time: at, Text: text, Lang: "fr", Hashtags: tags, URLs: urls})
	}
	n := 0
	for h := range 24 {
		for i := range 3 + h%4 {
			n++
			add(fmt.Sprint(1000+n), fmt.Sprintf("org%d", i), day.Add(time.Duration(h)*time.Hour+time.Duration(i)*time.Minute),
				"Débat ce soir, on verra bien", []string{"Presidentielle2017"})
		}
	}
	for i := range 6 {
		at := day.Add(9*time.Hour + time.Duration(i)*10*time.Second)
		add(fmt.Sprint(2000+i), fmt.Sprintf("bot%d", i), at, "Le compte offshore de #Macron [lien] *exclusif*", []string{"MacronLeaks"}, "https://leak.example.org/doc")
	}
	add("3000", "grow1", day.Add(14*time.Hour), "Votez Le Pen #Marine2017", []string{"Marine2017"})
	add("900", "org0", day.Add(-3*time.Hour), "la veille", nil)
	if err := s.PutPosts(t.Context(), ps); err != nil {
		t.Fatal(err)
	}
	mk := func(id string, first, last time.Time, members []string, risk float64) post.Cluster {
		c := post.Cluster{ID: id, Status: post.StatusActive, Platform: post.PlatformTwitter, Detected: last, FirstSeen: first, LastSeen: last,
			Members: members, Signals: map[post.Kind]int{post.KindLink: 3}, Scores: post.Scores{Risk: risk, Reasons: []string{"r"}}}
		for i := 1; i < len(members); i++ {
			c.Edges = append(c.Edges, post.Edge{A: members[0], B: members[i], Weight: 3, First: first, Last: last})
		}
		c.EdgeCount = len(c.Edges)
		return c
	}
	var bots []string
	for i := range 6 {
		bots = append(bots, fmt.Sprintf("twitter:bot%d", i))
	}
	leak := mk("c-new", day.Add(9*time.Hour), day.Add(9*time.Hour+time.Minute), bots, 82)
	leak.TopObjects = []post.KeyCount{{Kind: post.KindLink, Key: "https://leak.example.org/doc", Count: 6}}
	leak.Stance = map[string]post.StanceScore{"macron": {Smear: 0.9}, "lepen": {Favour: 0.1}}
	leak.Target, leak.TargetStance, leak.BotShare = "macron", "smear", 0.5
	leak.Posts = []string{"twitter:2000", "twitter:2001", "twitter:2002"}
	grow := mk("c-grow", day.Add(-30*time.Hour), day.Add(14*time.Hour), []string{"twitter:grow1", "twitter:grow2", "twitter:grow3"}, 61)
	grow.Edges[1].First = day.Add(14 * time.Hour) // a tie formed on the day
	grow.Stance = map[string]post.StanceScore{"lepen": {Favour: 0.7}}
	grow.Target, grow.TargetStance = "lepen", "favour"
	grow.Posts = []string{"twitter:3000"}
	fade := mk("c-fade", day.Add(-40*time.Hour), day.Add(-5*time.Hour), []string{"twitter:f1", "twitter:f2", "twitter:f3"}, 55)
	old := mk("c-old", day.Add(-90*time.Hour), day.Add(-70*time.Hour), []string{"twitter:o1", "twitter:o2", "twitter:o3"}, 90)
	if err := s.PutClusters(t.Context(), []post.Cluster{leak, grow, fade, old}); err != nil {
		t.Fatal(err)
	}
	return s
}

func build(t *testing.T, s store.Reader, charts bool) *Report {
	t.Helper()
	rep, err := Build(t.Context(), s, Options{Date: "2017-05-05", BaseURL: "http://vigie.test", Final: true,
		Now: time.Date(2017, 5, 6, 6, 0, 0, 0, time.UTC), NoCharts: !charts})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestGoldenMarkdown(t *testing.T) {
	rep := build(t, fixture(t), true)
	got := rep.Markdown()
	path := filepath.Join("testdata", "2017-05-05.md")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("Markdown differs from %s (run go test ./brief -update and review the diff):\n%s", path, got)
	}
}

func TestContent(t *testing.T) {
	rep := build(t, fixture(t), false)
	ids := func(rows []ClusterRow) string {
		var s []string
		for _, r := range rows {
			s = append(s, r.ID)
		}
		return strings.Join(s, ",")
	}
	for _, tc := range []struct{ name, got, want string }{
		{"new", ids(rep.New), "c-new"},
		{"growing", ids(rep.Growing), "c-grow"},
		{"fading", ids(rep.Fading), "c-fade"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s clusters = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	if rep.Posts != 24*3+36+6+1 || rep.Posts != rep.PostsRead {
		t.Errorf("posts = %d (read %d)", rep.Posts, rep.PostsRead)
	}
	if rep.HourlyNetworked[9] != 6 || rep.HourlyNetworked[14] != 1 {
		t.Errorf("networked posts at 09h, 14h = %d, %d", rep.HourlyNetworked[9], rep.HourlyNetworked[14])
	}
	if len(rep.Candidates) == 0 || rep.Candidates[0].Name != "macron" || rep.Candidates[0].Smear != 0.9*6 {
		t.Errorf("candidates = %+v", rep.Candidates)
	}
	if len(rep.NetworkHashtags) == 0 || rep.NetworkHashtags[0].Key != "#macronleaks" {
		t.Errorf("network hashtags = %+v", rep.NetworkHashtags)
	}
	if len(rep.Domains) == 0 || rep.Domains[0].Key != "leak.example.org" {
		t.Errorf("domains = %+v", rep.Domains)
	}
	if len(rep.Examples) != 3 || rep.Examples[0].Link != "https://twitter.com/i/web/status/2000" {
		t.Errorf("examples = %+v", rep.Examples)
	}
	md := rep.Markdown()
	if strings.Contains(md, "[lien]") || !strings.Contains(md, `\[lien\]`) {
		t.Error("post text is not escaped in Markdown")
	}
	for _, want := range []string{"Executive summary", "Most smeared: macron", "Method and limits"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
}

func decodePNG(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	return img
}

// distinctColours counts colours, up to limit.
func distinctColours(img image.Image, limit int) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= limit {
				return len(seen)
			}
		}
	}
	return len(seen)
}

func TestCharts(t *testing.T) {
	rep := build(t, fixture(t), true)
	names := map[string]bool{}
	for _, c := range rep.Charts {
		names[c.Name] = true
		img := decodePNG(t, c.PNG)
		if w := img.Bounds().Dx(); w < 600 {
			t.Errorf("%s chart %d px wide", c.Name, w)
		}
		if n := distinctColours(img, 3); n < 3 {
			t.Errorf("%s chart has %d colours: blank", c.Name, n)
		}
	}
	for _, want := range []string{"activity", "stance", "network"} {
		if !names[want] {
			t.Errorf("no %s chart", want)
		}
	}
	html, err := rep.HTML()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(html, `src="data:image/png;base64,`) != 3 || strings.Contains(html, "<script") {
		t.Error("HTML does not embed three charts, or has a script")
	}
	files, err := rep.WriteFiles(t.TempDir())
	if err != nil || len(files.Charts) != 3 {
		t.Fatalf("WriteFiles = %+v, %v", files, err)
	}
}

// TestHTMLInChromium renders the briefing in headless Chromium and checks
// the screenshot: a PNG of the window's size that is not one colour.
func TestHTMLInChromium(t *testing.T) {
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed (CI installs Debian's chromium package in .ci/run)")
		}
		t.Skip("chromium not found in PATH; install Debian's chromium package to run this test")
	}
	rep := build(t, fixture(t), true)
	dir := t.TempDir()
	files, err := rep.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "shot.png")
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--window-size=1200,2400", "--screenshot="+shot, "file://"+files.HTML)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v\n%s", err, out)
	}
	img := decodePNG(t, b)
	if got := img.Bounds().Size(); got != image.Pt(1200, 2400) {
		t.Errorf("screenshot is %v, want 1200x2400", got)
	}
	if n := distinctColours(img, 50); n < 50 {
		t.Errorf("screenshot has %d colours: the page did not render", n)
	}
}
