package brief

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// method is the note on method and limits, in both renderings.
var method = []string{
	"Vigie links accounts that act alike within a short window (the same repost, link or text within seconds) and groups them into clusters (Louvain communities of the co-action graph). A cluster's risk (0–100) weighs how tightly its members act together, its size and its volume; the reasons are listed with each cluster in Vigie.",
	"Coordination is not proof of inauthenticity: fan groups, newsrooms and campaign volunteers also act together. Every cluster here needs a human look at its evidence before it is reported as an influence operation.",
	"New clusters were first seen on the day; growing ones formed new ties on it; fading ones went quiet in its last six hours or expired. These are judged from the latest stored state of each cluster, which keeps its strongest edges only, so late data can move a cluster between categories.",
	"Stance per candidate comes from the members' posts (keywords and hashtags of the election file), weighted by cluster size; it is an estimate, and irony or quotes can fool it.",
	"Narratives are counted over the day's stored posts; the platform's own view (deleted posts, private accounts) is not visible to Vigie.",
}

// pseudonymNote ends the method notes of a pseudonymised briefing.
const pseudonymNote = "Accounts are pseudonymised: handles, @mentions and post IDs appear as keyed pseudonyms (acct_…, post_…), the same for the same account in every briefing made with the same key; links to the posts are left out. Post texts are quoted as written and can still be searched on the platform: pseudonymised is not anonymous."

// methodNotes are the method notes of this briefing.
func (rep *Report) methodNotes() []string {
	if !rep.Pseudonymised {
		return method
	}
	return append(slices.Clone(method), pseudonymNote)
}

// Markdown renders the briefing as Markdown. Charts are referenced as
// files named by ChartFile, which WriteFiles writes beside it.
func (rep *Report) Markdown() string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("# %s\n\n", rep.Title)
	status := "final"
	if !rep.Final {
		status = "provisional: the day is not over in the stream"
	}
	w("*%s UTC to %s UTC · generated %s · %s*\n\n", rep.From.Format("2006-01-02 15:04"), rep.To.Format("2006-01-02 15:04"),
		rep.Generated.Format("2006-01-02 15:04 MST"), status)
	w("## Executive summary\n\n%s\n\n", md(rep.Summary))
	section := func(title, empty string, rows []ClusterRow) {
		w("## %s\n\n", title)
		if len(rows) == 0 {
			w("%s\n\n", empty)
			return
		}
		w("| cluster | accounts | risk | active (UTC) | new ties | pushing | target | bot-like |\n|---|---:|---:|---|---:|---|---|---:|\n")
		for _, r := range rows {
			id := "`" + r.ID + "`"
			if r.Link != "" {
				id = "[" + r.ID + "](" + r.Link + ")"
			}
			target := "—"
			if r.Target != "" {
				target = r.Target + " (" + r.TargetStance + ")"
			}
			w("| %s | %d | %.0f | %s – %s | %d | %s | %s | %.0f%% |\n", id, r.Size, r.Risk, r.FirstSeen.Format("01-02 15:04"),
				r.LastSeen.Format("01-02 15:04"), r.NewEdges, cell(r.Top), md(target), 100*r.BotShare)
		}
		w("\n")
	}
	section("New clusters", "No new cluster on this day.", rep.New)
	section("Growing clusters", "No cluster formed new ties on this day.", rep.Growing)
	section("Fading clusters", "No cluster went quiet on this day.", rep.Fading)
	if rep.Steady > 0 {
		w("%s active without new ties.\n\n", plural(rep.Steady, "other cluster stayed", "other clusters stayed"))
	}
	w("## Candidates favoured and smeared\n\n")
	if len(rep.Candidates) == 0 {
		w("No stance was scored for the day's clusters.\n\n")
	} else {
		w("| candidate | favour | smear | clusters taking a side |\n|---|---:|---:|---:|\n")
		for _, c := range rep.Candidates {
			w("| %s | %.1f | %.1f | %d |\n", md(c.Name), c.Favour, c.Smear, c.Clusters)
		}
		w("\nFavour and smear are in member-equivalents: each cluster's size times the share of its posts favouring or smearing the candidate.\n\n")
	}
	w("## Top narratives\n\n")
	list := func(title string, cs []Count) {
		w("**%s:** ", title)
		if len(cs) == 0 {
			w("none.\n\n")
			return
		}
		parts := make([]string, len(cs))
		for i, c := range cs {
			parts[i] = fmt.Sprintf("%s (%d)", md(c.Key), c.Count)
		}
		w("%s.\n\n", strings.Join(parts, ", "))
	}
	list("Hashtags pushed by the networks", rep.NetworkHashtags)
	list("Hashtags overall", rep.Hashtags)
	list("Links", rep.URLs)
	list("Domains", rep.Domains)
	if rep.Sampled {
		w("Narratives and activity are counted over the first %d of %d posts of the day.\n\n", rep.PostsRead, rep.Posts)
	}
	w("## Charts\n\n")
	if len(rep.Charts) == 0 {
		w("Charts were not rendered.\n\n")
	}
	for _, c := range rep.Charts {
		w("![%s](%s)\n\n*%s*\n\n", md(c.Alt), rep.ChartFile(c), md(c.Caption))
	}
	w("## Example posts\n\n")
	if len(rep.Examples) == 0 {
		w("No example post of the day is stored for the new or growing clusters.\n\n")
	}
	for _, e := range rep.Examples {
		w("> %s\n>\n> — %s, %s UTC, cluster `%s`", md(e.Text), md(e.Author), e.Time.Format("2006-01-02 15:04"), e.Cluster)
		if e.Link != "" {
			w(" · [on the platform](%s)", e.Link)
		}
		if e.Vigie != "" {
			w(" · [in Vigie](%s)", e.Vigie)
		}
		w("\n\n")
	}
	w("## Method and limits\n\n")
	for _, m := range rep.methodNotes() {
		w("- %s\n", m)
	}
	return b.String()
}

// ChartFile is the file name of a chart beside the Markdown.
func (rep *Report) ChartFile(c Chart) string { return rep.Date + "-" + c.Name + ".png" }

// md escapes the characters Markdown would interpret in quoted text, so a
// post cannot inject links, images or HTML into the briefing.
func md(s string) string {
	return mdEscaper.Replace(strings.Join(strings.Fields(s), " "))
}

var mdEscaper = strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;",
	"#", `\#`, "|", `\|`, "!", `\!`)

func cell(s string) string {
	if s == "" {
		return "—"
	}
	return md(s)
}

//go:embed briefing.html
var htmlTemplate string

var tmpl = template.Must(template.New("briefing").Funcs(template.FuncMap{
	"datauri": func(b []byte) template.URL {
		return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b))
	},
	"pct":  func(x float64) string { return fmt.Sprintf("%.0f%%", 100*x) },
	"f0":   func(x float64) string { return fmt.Sprintf("%.0f", x) },
	"f1":   func(x float64) string { return fmt.Sprintf("%.1f", x) },
	"tm":   func(layout string, t interface{ Format(string) string }) string { return t.Format(layout) },
	"safe": func(s string) template.URL { return safeURL(s) },
}).Parse(htmlTemplate))

// safeURL lets only http(s) links through; html/template would otherwise
// replace other schemes with #ZgotmplZ anyway.
func safeURL(s string) template.URL {
	if strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") {
		return template.URL(s)
	}
	return ""
}

// HTML renders the briefing as one self-contained page: inline style,
// charts as data: URIs, no script.
func (rep *Report) HTML() (string, error) {
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, map[string]any{"R": rep, "Method": rep.methodNotes()}); err != nil {
		return "", fmt.Errorf("brief %s: html: %w", rep.Date, err)
	}
	return buf.String(), nil
}

// Files are the paths WriteFiles wrote.
type Files struct {
	Markdown, HTML string
	Charts         []string
}

// WriteFiles writes DIR/DATE.md, DIR/DATE.html and the charts as PNG
// beside them, each through a temporary file and a rename, so a reader
// never sees half a briefing.
func (rep *Report) WriteFiles(dir string) (Files, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Files{}, fmt.Errorf("brief: %w", err)
	}
	html, err := rep.HTML()
	if err != nil {
		return Files{}, err
	}
	f := Files{Markdown: filepath.Join(dir, rep.Date+".md"), HTML: filepath.Join(dir, rep.Date+".html")}
	if err := writeAtomic(f.Markdown, []byte(rep.Markdown())); err != nil {
		return Files{}, err
	}
	if err := writeAtomic(f.HTML, []byte(html)); err != nil {
		return Files{}, err
	}
	for _, c := range rep.Charts {
		p := filepath.Join(dir, rep.ChartFile(c))
		if err := writeAtomic(p, c.PNG); err != nil {
			return Files{}, err
		}
		f.Charts = append(f.Charts, p)
	}
	return f, nil
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".brief-*")
	if err != nil {
		return fmt.Errorf("brief: write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("brief: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("brief: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("brief: write %s: %w", path, err)
	}
	return nil
}
