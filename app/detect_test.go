package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/config"
	"github.com/vigie-osint/vigie/graph"
	"github.com/vigie-osint/vigie/post"
)

// Small inputs for `vigie detect`, with outputs worked out by hand from
// the peer tools' code (see graph/compat.go for the rules).
const (
	// a, b and c repost o1 and o2. On o2, b's share is 5 s older than
	// a's though a's row comes first: CooRTweet orients by time. c
	// shares o3 alone; its only co-share content is c6, so c has one row
	// in pairs and fails min_participation 2, but its pairs stay because
	// the other side qualifies.
	detectCooRTweetIn = `object_id,account_id,content_id,timestamp_share
o1,a,c1,1600000100
o1,b,c2,1600000110
o1,c,c3,1600000200
o2,b,c4,1600000300
o2,a,c5,1600000305
o2,c,c6,1600000330
o3,c,c7,1600000400
`
	// u2's two messages each share a URL of u1's message 1: u2->u1 weighs
	// 2, u1->u2 1 (one distinct message). u3's repost carries URL a at
	// 105, but the toolkit ignores the URLs of reposts; its message 5 is
	// too late. The blank urls cell of message 6 is no link.
	detectCNTIn = `message_id,user_id,username,repost_id,reply_id,message,timestamp,urls
1,u1,one,,,"a and b",1600000100,http://x.org/a http://x.org/b
2,u2,two,,,"a",1600000110,http://x.org/a
3,u2,two,,,"b",1600000120,http://x.org/b
4,u3,three,1,,"RT a and b",1600000105,http://x.org/a
5,u3,three,,,"a late",1600000500,http://x.org/a
6,u4,four,,,"no link",1600000100,
7,u5,five,,,"no link",1600000101,
`
	// CooRTweet's German layout: post 11 spans two rows (URL then image),
	// and its URL row repeats; reading drops the repeat.
	detectGermanIn = `account_id,post_id,url_id,hashtag_id,domain_id,phash_id,timestamp
fb_1,11,u9,,d1,,1600001000
fb_2,21,u9,,d1,,1600001010
fb_1,11,,,,p5,1600001000
fb_1,11,u9,,d1,,1600001000
tw_3,31,u9,h1,d1,,1600001020
fb_1,12,u8,,d2,,1600002000
tw_3,32,u8,,d2,,1600002005
fb_2,22,,h1,,,1600002500
`
)

// detectJSONL is a planted group x, y, z reposting three posts within
// seconds (weight 3 each way: one cluster), and w joining once.
func detectJSONL() string {
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	n := 0
	for i, orig := range []string{"o1", "o2", "o3"} {
		for j, acc := range []string{"x", "y", "z"} {
			n++
			p := post.Post{Schema: 1, Platform: post.PlatformTwitter, ID: "p" + string(rune('0'+n)), Author: acc,
				Time: t0.Add(time.Duration(i)*time.Hour + time.Duration(j)*time.Second), RepostOf: orig}
			line, _ := json.Marshal(p)
			b.Write(append(line, '\n'))
		}
	}
	b.WriteString(`{"schema":1,"platform":"twitter","id":"q1","author":"w","time":"2024-03-01T00:00:30Z","repost_of":"o1"}` + "\n")
	b.WriteString("not json\n")
	return b.String()
}

func TestDetect(t *testing.T) {
	for _, c := range []struct {
		name  string
		file  string // name of the input file, written from in
		in    string
		args  []string
		files map[string]string // expected output files (exact), by name
		check func(t *testing.T, dir string)
	}{
		{name: "coortweet all", file: "in.csv", in: detectCooRTweetIn, args: []string{"--compat", "coortweet"},
			files: map[string]string{
				"edges.csv": "from,to,weight,avg_time_delta,n_content_id,n_content_id_y,edge_symmetry_score,weight_threshold\n" +
					"a,b,2,7.5,2,2,1,1\na,c,1,25,1,1,1,0\nb,c,1,30,1,1,1,0\n",
				"nodes.csv": "account_id,component\na,1\nb,1\nc,1\n",
			}},
		{name: "coortweet subgraph", file: "in.csv", in: detectCooRTweetIn, args: []string{"--compat", "coortweet", "--subgraph", "1"},
			files: map[string]string{
				"edges.csv": "from,to,weight,avg_time_delta,n_content_id,n_content_id_y,edge_symmetry_score,weight_threshold\n" +
					"a,b,2,7.5,2,2,1,1\n",
				"nodes.csv": "account_id,component\na,1\nb,1\n",
			}},
		{name: "coortweet min participation 3", file: "in.csv", in: detectCooRTweetIn, args: []string{"--compat", "coortweet", "--min-participation", "3"},
			// Only c has 3 rows; its pairs need a partner with 3 rows too.
			files: map[string]string{"edges.csv": "from,to,weight,avg_time_delta,n_content_id,n_content_id_y,edge_symmetry_score,weight_threshold\n"}},
		{name: "coortweet german links", file: "german.csv", in: detectGermanIn, args: []string{"--compat", "coortweet", "--signal", "link", "--window", "30s", "--edge-weight", "0"},
			// fb_1 and tw_3 co-share u9 and u8: weight 2. fb_2 shares one
			// URL, so min_participation drops it. The only weight is the
			// 0 quantile, and no weight exceeds it: threshold 0.
			files: map[string]string{
				"edges.csv": "from,to,weight,avg_time_delta,n_content_id,n_content_id_y,edge_symmetry_score,weight_threshold\n" +
					"fb_1,tw_3,2,12.5,2,2,1,0\n",
				"nodes.csv": "account_id,component\nfb_1,1\ntw_3,1\n",
			}},
		{name: "cnt links", file: "cnt.csv", in: detectCNTIn, args: []string{"--compat", "cnt", "--signal", "link"},
			files: map[string]string{
				"edges.csv": "account_a,account_b,weight,weight_ab,weight_ba\nu1,u2,2,1,2\n",
				"nodes.csv": "account_id,component\nu1,1\nu2,1\n",
			}},
		{name: "cnt reposts", file: "cnt.csv", in: detectCNTIn, args: []string{"--compat", "cnt", "--format", "cnt"},
			files: map[string]string{"edges.csv": "account_a,account_b,weight,weight_ab,weight_ba\n"}},
		{name: "engine", file: "posts.jsonl", in: detectJSONL(), args: []string{"--min-weight", "1"},
			check: func(t *testing.T, dir string) {
				edges := readLines(t, filepath.Join(dir, "edges.csv"))
				if len(edges) != 1+6 || !strings.HasPrefix(edges[0], "account_a,account_b,weight,co_actions,") {
					t.Fatalf("edges.csv:\n%s", strings.Join(edges, "\n"))
				}
				var clusters []post.Cluster
				b, err := os.ReadFile(filepath.Join(dir, "clusters.json"))
				if err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(b, &clusters); err != nil {
					t.Fatal(err)
				}
				// w's three edges weigh 1, and count for communities at
				// --min-weight 1, so w joins the planted group's.
				if len(clusters) != 1 || len(clusters[0].Members) != 4 {
					t.Fatalf("clusters %+v", clusters)
				}
				for _, e := range edges[1:] {
					f := strings.Split(e, ",")
					if (f[0] != "twitter:w" && f[1] != "twitter:w") && (f[2] != "3" || f[8] != clusters[0].ID) {
						t.Errorf("edge %q: want weight 3 in cluster %s", e, clusters[0].ID)
					}
				}
			}},
		{name: "engine default weight", file: "posts.jsonl", in: detectJSONL(), args: nil,
			check: func(t *testing.T, dir string) {
				b, err := os.ReadFile(filepath.Join(dir, "clusters.json"))
				if err != nil {
					t.Fatal(err)
				}
				var clusters []post.Cluster
				if err := json.Unmarshal(b, &clusters); err != nil || len(clusters) != 1 {
					t.Fatalf("clusters %s: %v", b, err)
				}
				id := clusters[0].ID
				want := "account_id,cluster\ntwitter:x," + id + "\ntwitter:y," + id + "\ntwitter:z," + id
				if got := strings.Join(readLines(t, filepath.Join(dir, "nodes.csv")), "\n"); got != want {
					t.Errorf("nodes.csv:\n%s\nwant:\n%s", got, want)
				}
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, c.file)
			if err := os.WriteFile(in, []byte(c.in), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "out")
			var stdout, stderr bytes.Buffer
			args := append([]string{"detect", "--input", in, "--out", out}, c.args...)
			if code := Main(context.Background(), args, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d: %s%s", code, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), "wrote "+filepath.Join(out, "edges.csv")) {
				t.Errorf("summary %q", stdout.String())
			}
			for name, want := range c.files {
				got, err := os.ReadFile(filepath.Join(out, name))
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != want {
					t.Errorf("%s:\n%s\nwant:\n%s", name, got, want)
				}
			}
			if c.check != nil {
				c.check(t, out)
			}
		})
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

// TestDetectErrors checks that bad invocations say what is wrong, with
// status 2 for usage and 1 for failures.
func TestDetectErrors(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	if err := os.WriteFile(in, []byte(detectCooRTweetIn), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no input", []string{"detect"}, 2, "--input is required"},
		{"bad compat", []string{"detect", "--input", in, "--compat", "gephi"}, 2, "--compat must be none, coortweet or cnt"},
		{"two signals", []string{"detect", "--input", in, "--compat", "cnt", "--signal", "repost,link"}, 2, "one signal at a time"},
		{"bad signal", []string{"detect", "--input", in, "--signal", "likes"}, 2, `unknown kind "likes"`},
		{"bad format", []string{"detect", "--input", in, "--format", "xml"}, 2, "--format must be"},
		{"bad window", []string{"detect", "--input", in, "--window", "-1s"}, 2, "--window must be positive"},
		{"cnt hashtags", []string{"detect", "--input", in, "--compat", "cnt", "--signal", "hashtag", "--object", "hashtag"}, 1, "co_retweet (repost), co_link (link) and co_reply (reply)"},
		{"bad subgraph", []string{"detect", "--input", in, "--compat", "coortweet", "--subgraph", "3"}, 1, "subgraph 3 not reproduced"},
		{"missing file", []string{"detect", "--input", filepath.Join(dir, "nope.csv")}, 1, "no such file"},
		{"wrong layout", []string{"detect", "--input", in, "--format", "cnt"}, 1, "match no known layout"},
		{"stray argument", []string{"detect", "--input", in, "extra"}, 2, "unexpected arguments"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append(c.args, "--out", filepath.Join(dir, "out"))
			if c.name == "stray argument" {
				args = c.args
			}
			code := Main(context.Background(), args, &stdout, &stderr)
			if code != c.code || !strings.Contains(stderr.String(), c.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), c.code, c.want)
			}
		})
	}
}

// TestMergePosts checks how rows of one post are joined for the engine.
func TestMergePosts(t *testing.T) {
	at := time.Unix(1000, 0).UTC()
	p := func(id, author, repost string, urls ...string) post.Post {
		return post.Post{Platform: post.PlatformTwitter, ID: id, Author: author, Time: at, RepostOf: repost, URLs: urls}
	}
	got := mergePosts([]post.Post{
		p("1", "a", "", "u1"), p("2", "b", "o"), p("1", "a", "", "u2"), p("1", "a", "", "u1"),
		p("2", "b", "o2"), p("2", "b", "o3"), p("2", "b", "o2"),
	})
	var s []string
	for _, q := range got {
		s = append(s, q.ID+":"+q.RepostOf+strings.Join(q.URLs, "+"))
	}
	if want := "1:u1+u2 2:o 2~2:o2 2~3:o3"; strings.Join(s, " ") != want {
		t.Errorf("merged %q, want %q", strings.Join(s, " "), want)
	}
}

// TestDetectRussian runs `vigie detect --compat coortweet` on CooRTweet's
// Russian retweet data: edges.csv must equal the file CooRTweet wrote,
// byte for byte, and so must the median subgraph's nodes.csv.
func TestDetectRussian(t *testing.T) {
	const data = "../../shared/datasets/"
	in := data + "coortweet/russian_coord_tweets.csv"
	if _, err := os.Stat(in); errors.Is(err, fs.ErrNotExist) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dataset %s missing in CI", in)
		}
		t.Skipf("dataset %s not present, skipping: %v", in, err)
	}
	for _, c := range []struct {
		args []string
		want map[string]string
	}{
		{[]string{"--edge-weight", "0"}, map[string]string{"edges.csv": "coortweet_russian_coretweet_tw60_all_edges.csv"}},
		{[]string{"--edge-weight", "0.5", "--subgraph", "1"}, map[string]string{
			"edges.csv": "coortweet_russian_tw60_ew0.5_edges.csv", "nodes.csv": "coortweet_russian_tw60_ew0.5_nodes.csv"}},
	} {
		out := t.TempDir()
		var stdout, stderr bytes.Buffer
		args := append([]string{"detect", "--input", in, "--compat", "coortweet", "--window", "60s", "--min-participation", "2", "--out", out}, c.args...)
		start := time.Now()
		if code := Main(context.Background(), args, &stdout, &stderr); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		t.Logf("%v in %v: %s", c.args, time.Since(start), strings.TrimSpace(stdout.String()))
		for mine, ref := range c.want {
			got, err := os.ReadFile(filepath.Join(out, mine))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(data + "peer-edges/" + ref)
			if err != nil {
				t.Fatal(err)
			}
			gl := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
			wl := strings.Split(strings.TrimSuffix(string(want), "\n"), "\n")
			same := 0
			for i := range min(len(gl), len(wl)) {
				if gl[i] == wl[i] {
					same++
				} else if i-same < 5 {
					t.Errorf("%s line %d: %q, CooRTweet %q", mine, i+1, gl[i], wl[i])
				}
			}
			t.Logf("%s: %d of %d lines equal to %s", mine, same, len(wl), ref)
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s", mine, ref)
			}
		}
	}
}

// TestGraphConfigKeys checks that every engine parameter with a config
// key reaches the engine's configuration.
func TestGraphConfigKeys(t *testing.T) {
	cfg, err := config.Parse(strings.NewReader(`graph:
  max_evidence: 3
  level: -1
  rejoin: -1
  text_threshold: 0.8
  text_min_words: 7
  media_max_distance: -1
  id_overlap: 0.5
  hashtag_seq_min: 4
  min_cohesion: 0.35
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	g := GraphConfig(cfg)
	want := graph.Config{MaxEvidence: 3, Level: -1, Rejoin: -1, TextThreshold: 0.8, TextMinWords: 7, MediaMaxDistance: -1, IDOverlap: 0.5, HashtagSeqMin: 4, MinCohesion: 0.35}
	got := graph.Config{MaxEvidence: g.MaxEvidence, Level: g.Level, Rejoin: g.Rejoin, TextThreshold: g.TextThreshold,
		TextMinWords: g.TextMinWords, MediaMaxDistance: g.MediaMaxDistance, IDOverlap: g.IDOverlap, HashtagSeqMin: g.HashtagSeqMin,
		MinCohesion: g.MinCohesion}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("engine parameters %+v, want %+v", got, want)
	}
	if _, err := graph.New(g); err != nil {
		t.Errorf("engine refused the mapped config: %v", err)
	}
}

// splitInputs writes a CSV in the toolkit's layout and the same rows as
// JSONL: bursts of reposts by 40 accounts, with bad records (a bad
// timestamp) and blank lines spread over the file, so that both halves
// of a split read hold some.
func splitInputs(t *testing.T, dir string) (csvPath, jsonlPath string) {
	t.Helper()
	var c, j strings.Builder
	c.WriteString("message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n")
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 4000 {
		acc := (i*7 + i/40) % 40
		orig := i / 25
		sec := int64(i*3 + acc%5)
		ts := fmt.Sprint(t0.Unix() + sec)
		if i%97 == 5 {
			ts = "bad"
		}
		fmt.Fprintf(&c, "%d,%d,user%d,%d,,,%s,\n", 100000+i, acc, acc, orig, ts)
		if i%211 == 7 {
			c.WriteString("\n")
			j.WriteString("\n")
		}
		if ts == "bad" {
			j.WriteString("not json\n")
			continue
		}
		p := post.Post{Schema: 1, Platform: post.PlatformTwitter, ID: fmt.Sprint(100000 + i), Author: fmt.Sprint(acc),
			Time: t0.Add(time.Duration(sec) * time.Second), RepostOf: fmt.Sprint(orig)}
		line, _ := json.Marshal(p)
		j.Write(append(line, '\n'))
	}
	csvPath, jsonlPath = filepath.Join(dir, "in.csv"), filepath.Join(dir, "in.jsonl")
	if err := os.WriteFile(csvPath, []byte(c.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jsonlPath, []byte(j.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return csvPath, jsonlPath
}

// TestDetectSplitRead checks that reading a file with two readers gives
// the same output files and the same bad-record reports, line numbers
// included, as reading it with one.
func TestDetectSplitRead(t *testing.T) {
	dir := t.TempDir()
	csvIn, jsonlIn := splitInputs(t, dir)
	for _, c := range []struct {
		name string
		args []string
	}{
		{"cnt", []string{"--input", csvIn, "--format", "cnt", "--compat", "cnt", "--min-weight", "2"}},
		{"coortweet", []string{"--input", csvIn, "--format", "cnt", "--compat", "coortweet", "--edge-weight", "0"}},
		{"engine", []string{"--input", jsonlIn, "--min-weight", "2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			run := func(min int64) (map[string]string, string) {
				defer func(old int64) { splitMin = old }(splitMin)
				splitMin = min
				out := t.TempDir()
				var stdout, stderr bytes.Buffer
				if code := Main(context.Background(), append([]string{"detect", "--out", out}, c.args...), &stdout, &stderr); code != 0 {
					t.Fatalf("exit %d: %s", code, stderr.String())
				}
				files := map[string]string{}
				entries, _ := os.ReadDir(out)
				for _, e := range entries {
					b, err := os.ReadFile(filepath.Join(out, e.Name()))
					if err != nil {
						t.Fatal(err)
					}
					files[e.Name()] = string(b)
				}
				// The summary, without its timings, counts the records read:
				// a part read twice would change nothing else (repeats are
				// ignored by post key or message ID).
				files["stdout"] = regexp.MustCompile(`in [0-9.]+[a-zµ]+`).ReplaceAllString(strings.Split(stdout.String(), "; wrote")[0], "")
				return files, stderr.String()
			}
			oneFiles, oneErr := run(1 << 62)
			twoFiles, twoErr := run(1)
			if len(oneFiles["edges.csv"]) < 200 || !strings.Contains(oneErr, "skipped") {
				t.Fatalf("test input too poor: edges %q, stderr %q", oneFiles["edges.csv"], oneErr)
			}
			if !reflect.DeepEqual(oneFiles, twoFiles) {
				t.Errorf("outputs differ when read by two readers: summary %q vs %q", oneFiles["stdout"], twoFiles["stdout"])
			}
			if oneErr != twoErr {
				t.Errorf("bad-record reports differ:\none reader:\n%s\ntwo readers:\n%s", oneErr, twoErr)
			}
		})
	}
	// The split itself: taken on these files, refused on a CSV with a
	// quote (a quoted field may hold a newline).
	defer func(old int64) { splitMin = old }(splitMin)
	splitMin = 1
	for _, in := range []string{csvIn, jsonlIn} {
		at, ok := splitPoint(in, in == jsonlIn, 0)
		b, _ := os.ReadFile(in)
		if !ok || at.Offset <= 0 || at.Offset >= int64(len(b)) || b[at.Offset-1] != '\n' ||
			at.Line != int64(bytes.Count(b[:at.Offset], []byte("\n"))) {
			t.Errorf("%s: split %+v, %v", in, at, ok)
		}
	}
	quoted := filepath.Join(dir, "quoted.csv")
	b, _ := os.ReadFile(csvIn)
	os.WriteFile(quoted, append(b, "1,2,u,3,,\"a\nb\",1709251200,\n"...), 0o644)
	if _, ok := splitPoint(quoted, false, 0); ok {
		t.Error("split a CSV holding quotes")
	}
}
