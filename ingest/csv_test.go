package ingest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// readCSVAll reads every record of a CSV source.
func readCSVAll(t testing.TB, c *CSV) (posts []post.Post, bad []*RecordError) {
	t.Helper()
	ctx := context.Background()
	for {
		p, err := c.Next(ctx)
		if errors.Is(err, io.EOF) {
			return posts, bad
		}
		var re *RecordError
		if errors.As(err, &re) {
			bad = append(bad, re)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		posts = append(posts, p)
	}
}

func openTestCSV(t testing.TB, path string, opts CSVOptions) *CSV {
	t.Helper()
	c, err := OpenCSV(path, opts, Position{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestCSVLayouts reads a sample of each layout, taken from the real files
// (CooRTweet's data sets) or written in the toolkit's format.
func TestCSVLayouts(t *testing.T) {
	at := func(sec int64, ns int64) time.Time { return time.Unix(sec, ns).UTC() }
	for _, c := range []struct {
		file   string
		opts   CSVOptions
		layout string
		posts  int
		bad    []int64 // lines of bad records
		check  map[int]post.Post
	}{
		{file: "coortweet_russian.csv", layout: "coortweet", posts: 9,
			check: map[int]post.Post{
				0: {Platform: post.PlatformTwitter, ID: "114e22f1b2b648528277b76f0b0224e7", Author: "0fb4232d1b7b37069c13ee17579bd10e",
					Time: at(1623881091, 0), RepostOf: "85d2d12251a735ce05255061f7f231e2"},
				// One retweet ID with two retweeted objects: two posts, same ID.
				8: {Platform: post.PlatformTwitter, ID: "77f7a2d01238779cf4f9c84e57dce19a", Author: "be9751f4b263a00cf0d2e9bc84f6c196",
					Time: at(1623278688, 0), RepostOf: "2afeb8a2e0ae4a0bda0604e6997be3a9"},
			}},
		{file: "coortweet_russian.csv", opts: CSVOptions{ObjectKind: post.KindLink, Platform: post.PlatformMastodon}, layout: "coortweet", posts: 9,
			check: map[int]post.Post{
				0: {Platform: post.PlatformMastodon, ID: "114e22f1b2b648528277b76f0b0224e7", Author: "0fb4232d1b7b37069c13ee17579bd10e",
					Time: at(1623881091, 0), URLs: []string{"85d2d12251a735ce05255061f7f231e2"}},
			}},
		{file: "coortweet_german.csv", opts: CSVOptions{Format: CSVCooRTweet}, layout: "coortweet-posts", posts: 15, bad: []int64{14},
			check: map[int]post.Post{
				0: {Platform: post.PlatformFacebook, ID: "129235", Author: "fb_12670", Time: at(1629589836, 0), URLs: []string{"23678"}},
				3: {Platform: post.PlatformFacebook, ID: "84445", Author: "fb_5966", Time: at(1629589022, 0), MediaHashes: []string{"9280"}},
				9: {Platform: post.PlatformTwitter, ID: "28347", Author: "tw_27868", Time: at(1631165794, 0),
					URLs: []string{"18687"}, MediaHashes: []string{"9061"}},
				12: {Platform: post.PlatformTwitter, ID: "24844", Author: "tw_27470", Time: at(1631604679, 0), Hashtags: []string{"40449"}},
			}},
		{file: "cnt.csv", layout: "cnt", posts: 5,
			check: map[int]post.Post{
				1: {Platform: post.PlatformTwitter, ID: "1002", Author: "u2", Time: at(1623878410, 5e8), RepostOf: "1001",
					Text: "RT @alice: Read this, now: https://example.org/a", URLs: []string{"https://example.org/a"},
					Account: &post.Account{Platform: post.PlatformTwitter, ID: "u2", Handle: "bob"}},
				2: {Platform: post.PlatformTwitter, ID: "1003", Author: "u3", Time: at(1623878420, 25e7), Text: "two links\non two lines",
					URLs: []string{"https://example.org/a", "https://example.org/b"}, Account: &post.Account{Platform: post.PlatformTwitter, ID: "u3", Handle: "carol"}},
				3: {Platform: post.PlatformTwitter, ID: "1004", Author: "u4", Time: at(1623878430, 0), ReplyTo: "1001", Text: "@alice agreed"},
				4: {Platform: post.PlatformTwitter, ID: "1005", Author: "tw_9", Time: at(1623878440, 0), Text: `"quoted" text`,
					URLs: []string{"https://example.org/b"}, Account: &post.Account{Platform: post.PlatformTwitter, ID: "tw_9", Handle: "dave"}},
			}},
		{file: "cnt_crlf.csv", opts: CSVOptions{Format: CSVCNT}, layout: "cnt", posts: 1},
	} {
		t.Run(c.file+"/"+string(c.opts.ObjectKind), func(t *testing.T) {
			r := openTestCSV(t, filepath.Join("testdata", c.file), c.opts)
			if r.Layout() != c.layout {
				t.Errorf("layout %q, want %q", r.Layout(), c.layout)
			}
			posts, bad := readCSVAll(t, r)
			if len(posts) != c.posts {
				t.Errorf("%d posts, want %d", len(posts), c.posts)
			}
			var lines []int64
			for _, b := range bad {
				lines = append(lines, b.Line)
			}
			if !equalLines(lines, c.bad) {
				t.Errorf("bad records at lines %v, want %v (%v)", lines, c.bad, bad)
			}
			for i, want := range c.check {
				want.Schema = post.SchemaVersion
				if got := posts[i]; !samePost(got, want) {
					t.Errorf("post %d:\n got %+v %+v\nwant %+v %+v", i, got, got.Account, want, want.Account)
				}
			}
			for _, p := range posts {
				if err := p.Validate(); err != nil {
					t.Errorf("invalid post returned: %v", err)
				}
			}
		})
	}
}

func equalLines(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func samePost(a, b post.Post) bool {
	eq := func(x, y []string) bool {
		return strings.Join(x, "\x00") == strings.Join(y, "\x00") && len(x) == len(y)
	}
	if (a.Account == nil) != (b.Account == nil) || (a.Account != nil && *a.Account != *b.Account) {
		return false
	}
	return a.Schema == b.Schema && a.Platform == b.Platform && a.ID == b.ID && a.Author == b.Author &&
		a.Time.Equal(b.Time) && a.Text == b.Text && a.RepostOf == b.RepostOf && a.ReplyTo == b.ReplyTo &&
		eq(a.URLs, b.URLs) && eq(a.Hashtags, b.Hashtags) && eq(a.Mentions, b.Mentions) && eq(a.MediaHashes, b.MediaHashes)
}

// TestCSVBadRecords checks that every kind of bad record is reported with
// its file, line and column, and that reading goes on after it.
func TestCSVBadRecords(t *testing.T) {
	posts, bad := readCSVAll(t, openTestCSV(t, "testdata/coortweet_bad.csv", CSVOptions{}))
	var ids []string
	for _, p := range posts {
		ids = append(ids, p.ID)
	}
	if got := strings.Join(ids, ","); got != "c1,c8" {
		t.Errorf("good posts %s, want c1,c8", got)
	}
	want := []struct {
		line int64
		msg  string
	}{
		{3, `field "timestamp_share": "not-a-time" is not a Unix time in seconds`},
		{4, `field "object_id": missing`},
		{5, `field "account_id": missing`},
		{6, `field "record": 3 fields, the header has 4`},
		{7, `field "record": 5 fields, the header has 4`},
		{8, `bare " in non-quoted-field`},
		{11, `field "timestamp_share": 2100-01-01T00:00:00Z is more than 1h0m0s in the future`},
		{12, `field "content_id": contains control characters`},
		{14, `extraneous or missing " in quoted-field`},
	}
	if len(bad) != len(want) {
		t.Fatalf("%d bad records, want %d: %v", len(bad), len(want), bad)
	}
	for i, w := range want {
		msg := bad[i].Error()
		if bad[i].Line != w.line || !strings.Contains(msg, w.msg) || !strings.HasPrefix(msg, "testdata/coortweet_bad.csv:") {
			t.Errorf("bad[%d] = line %d %q, want line %d containing %q", i, bad[i].Line, msg, w.line, w.msg)
		}
	}
	if raw := string(bad[0].Raw); raw != "o1,a2,c2,not-a-time" {
		t.Errorf("raw record %q", raw)
	}
}

// TestCSVHeader checks the errors of files the reader cannot use at all.
func TestCSVHeader(t *testing.T) {
	for _, c := range []struct {
		name, data string
		opts       CSVOptions
		want       string
	}{
		{"empty", "", CSVOptions{}, "empty file, no header"},
		{"unknown", "a,b,c\n1,2,3\n", CSVOptions{}, `columns "a,b,c" match no known layout`},
		{"wrong format", "object_id,account_id,content_id,timestamp_share\n", CSVOptions{Format: CSVCNT}, "want message_id,user_id"},
		{"bad format", "object_id,account_id,content_id,timestamp_share\n", CSVOptions{Format: "xml"}, `unknown CSV format "xml"`},
		{"bad kind", "object_id,account_id,content_id,timestamp_share\n", CSVOptions{ObjectKind: post.KindDomain}, `cannot hold a "domain" object`},
		{"bad quote", "\"object_id,account_id\n", CSVOptions{}, "header"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewCSV("in.csv", strings.NewReader(c.data), c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	// A byte-order mark, upper case and extra columns are fine.
	c, err := NewCSV("in.csv", strings.NewReader("\ufeffAccount_ID,Object_ID,note,Content_ID,Timestamp_Share\na,o,x,c,1623881091\n"), CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	posts, bad := readCSVAll(t, c)
	if len(posts) != 1 || len(bad) != 0 || posts[0].RepostOf != "o" || posts[0].Author != "a" || posts[0].ID != "c" {
		t.Errorf("posts %+v, bad %v", posts, bad)
	}
}

// TestCSVTooLong checks that one huge record (here a quote never closed on
// its line, then a line without end) costs one bad record and bounded
// memory, and that the records after it are read.
func TestCSVTooLong(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("object_id,account_id,content_id,timestamp_share\n")
	b.WriteString("o1,a1,c1,1623881091\n")
	b.WriteString("o1,a2,c2," + strings.Repeat("9", 3*MaxLineBytes) + "\n")
	b.WriteString("o1,a3,c3,1623881092\n")
	c, err := NewCSV("big.csv", bytes.NewReader(b.Bytes()), CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	posts, bad := readCSVAll(t, c)
	if len(posts) != 2 || posts[1].ID != "c3" {
		t.Errorf("posts %v", posts)
	}
	if len(bad) != 1 || bad[0].Line != 3 || !strings.Contains(bad[0].Error(), "longer than") {
		t.Errorf("bad %v", bad)
	}
	if pos := c.Position(); pos.Offset != int64(b.Len()) || pos.Line != 4 {
		t.Errorf("position %+v, want offset %d line 4", pos, b.Len())
	}
}

// TestCSVResume reads part of a file, then reopens it at the saved
// position: together the two reads see every record once, at the same
// lines.
func TestCSVResume(t *testing.T) {
	const path = "testdata/coortweet_bad.csv"
	all, allBad := readCSVAll(t, openTestCSV(t, path, CSVOptions{}))
	for stop := 1; stop <= len(all)+len(allBad); stop++ {
		c := openTestCSV(t, path, CSVOptions{})
		var got []string
		for range stop {
			p, err := c.Next(context.Background())
			var re *RecordError
			switch {
			case errors.As(err, &re):
				got = append(got, "bad@"+itoa(re.Line))
			case err != nil:
				t.Fatal(err)
			default:
				got = append(got, p.ID)
			}
		}
		r, err := OpenCSV(path, CSVOptions{}, c.Position())
		if err != nil {
			t.Fatal(err)
		}
		posts, bad := readCSVAll(t, r)
		r.Close()
		for _, p := range posts {
			got = append(got, p.ID)
		}
		for _, b := range bad {
			got = append(got, "bad@"+itoa(b.Line))
		}
		if len(got) != len(all)+len(allBad) {
			t.Errorf("stop %d: %v", stop, got)
		}
		seen := map[string]bool{}
		for _, g := range got {
			if seen[g] {
				t.Errorf("stop %d: %s read twice: %v", stop, g, got)
			}
			seen[g] = true
		}
		for _, b := range allBad {
			if !seen["bad@"+itoa(b.Line)] {
				t.Errorf("stop %d: bad record at line %d lost or misnumbered: %v", stop, b.Line, got)
			}
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestCSVDatasets reads the two CooRTweet data sets whole: every row of
// the Russian data is a valid post; the German data has three rows
// without a post ID.
func TestCSVDatasets(t *testing.T) {
	for _, c := range []struct {
		path      string
		rows, bad int
	}{
		{"../../shared/datasets/coortweet/russian_coord_tweets.csv", 35125, 0},
		{"../../shared/datasets/coortweet/german_elections.csv", 218971, 3},
	} {
		t.Run(filepath.Base(c.path), func(t *testing.T) {
			if _, err := os.Stat(c.path); errors.Is(err, fs.ErrNotExist) {
				if os.Getenv("CI") == "true" {
					t.Fatalf("dataset %s missing in CI", c.path)
				}
				t.Skipf("dataset %s not present, skipping: %v", c.path, err)
			}
			start := time.Now()
			posts, bad := readCSVAll(t, openTestCSV(t, c.path, CSVOptions{}))
			el := time.Since(start)
			t.Logf("%d posts, %d bad records in %v (%.0f rows/s)", len(posts), len(bad), el, float64(len(posts)+len(bad))/el.Seconds())
			if len(posts)+len(bad) != c.rows || len(bad) != c.bad {
				t.Errorf("%d posts + %d bad, want %d rows with %d bad: %v", len(posts), len(bad), c.rows, c.bad, bad)
			}
			for _, b := range bad {
				if !strings.Contains(b.Error(), `field "post_id": missing`) {
					t.Errorf("unexpected bad record %v", b)
				}
			}
		})
	}
}

// fuzzCSV reads data as a file of one format: whatever the bytes, the
// reader must not panic, must end, must return valid posts only and must
// name the line of each bad record.
func fuzzCSV(t *testing.T, data []byte, opts CSVOptions) {
	c, err := NewCSV("fuzz.csv", bytes.NewReader(data), opts)
	if err != nil {
		var re *RecordError
		if !errors.As(err, &re) && !strings.Contains(err.Error(), "object_id cannot hold") {
			t.Fatalf("header error of type %T: %v", err, err)
		}
		return
	}
	lines := int64(bytes.Count(data, []byte("\n"))) + 1
	for n := 0; ; n++ {
		if n > len(data)+1 {
			t.Fatalf("more records than bytes: not ending")
		}
		p, err := c.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		var re *RecordError
		if errors.As(err, &re) {
			if re.Line < 2 || re.Line > lines+1 || re.Source != "fuzz.csv" {
				t.Fatalf("bad record at line %d of %d: %v", re.Line, lines, re)
			}
			continue
		}
		if err != nil {
			t.Fatalf("error of type %T: %v", err, err)
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("invalid post returned: %v", err)
		}
	}
	if pos := c.Position(); pos.Offset > int64(len(data)) {
		t.Fatalf("position %+v past the end (%d bytes)", pos, len(data))
	}
}

func addSeeds(f *testing.F, files ...string) {
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzCooRTweetCSV(f *testing.F) {
	addSeeds(f, "coortweet_russian.csv", "coortweet_german.csv", "coortweet_bad.csv")
	f.Add([]byte("object_id,account_id,content_id,timestamp_share\no,tw_a,c,1.5e9\no,fb_b,\"c\"\"2\",1623881091.123456789\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzCSV(t, data, CSVOptions{Format: CSVCooRTweet})
		fuzzCSV(t, data, CSVOptions{Format: CSVCooRTweet, RowIDs: true}) // as vigie ingest reads it
	})
}

func FuzzCNTCSV(f *testing.F) {
	addSeeds(f, "cnt.csv", "cnt_crlf.csv")
	f.Add([]byte("message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n1,u,,,,\"a\nb\",1,  x  y \n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzCSV(t, data, CSVOptions{Format: CSVCNT})
	})
}

// TestCSVRowIDs reads CooRTweet's German layout with RowIDs through a
// deduplicating normaliser: every row of a multi-row post (rows not
// adjacent) must get an ID of its own and survive dedupe, with the
// original post_id readable before the "/", and only exact repeats of a
// row may be dropped. A second read (a replay) must give the same IDs.
func TestCSVRowIDs(t *testing.T) {
	const in = "account_id,post_id,url_id,hashtag_id,domain_id,phash_id,timestamp\n" +
		"fb_1,100,u1,,d1,,1629589836\n" +
		"fb_2,101,,,,,1629589840\n" +
		"fb_1,100,,h2,,,1629589836\n" +
		"fb_1,100,u1,,d1,,1629589836\n" + // exact repeat of line 2
		"fb_1,100,u9,h3,d9,m1,1629589836\n" +
		"fb_2,101,,,,,1629589840\n" // exact repeat of line 3
	tests := []struct {
		name   string
		rowIDs bool
		want   []string // IDs that pass dedupe, in order
		dups   int
	}{
		{"row IDs", true, []string{"100/u:u1", "101", "100/h:h2", "100/u:u9+h:h3+m:m1"}, 2},
		// Without RowIDs (vigie detect's batch reading), the post ID is
		// CooRTweet's and a stream would drop a post's later rows.
		{"post IDs", false, []string{"100", "101"}, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var first []string
			for run := range 2 {
				c, err := NewCSV("german", strings.NewReader(in), CSVOptions{Format: CSVCooRTweet, RowIDs: tc.rowIDs})
				if err != nil {
					t.Fatal(err)
				}
				n := NewNormaliser(100)
				var got []string
				dups := 0
				for {
					p, err := c.Next(context.Background())
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					if orig, _, _ := strings.Cut(p.ID, "/"); orig != "100" && orig != "101" {
						t.Errorf("ID %q does not start with the post_id", p.ID)
					}
					if err := n.Apply(context.Background(), &p); errors.Is(err, ErrDuplicate) {
						dups++
						continue
					} else if err != nil {
						t.Fatal(err)
					}
					got = append(got, p.ID)
				}
				if !slices.Equal(got, tc.want) || dups != tc.dups {
					t.Errorf("run %d: passed %q with %d duplicates, want %q with %d", run, got, dups, tc.want, tc.dups)
				}
				if run == 0 {
					first = got
				} else if !slices.Equal(got, first) {
					t.Errorf("replay gave IDs %q, first read %q", got, first)
				}
			}
		})
	}
}
