package twitter

import (
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/post"
)

// testdata/io_tweets.csv has the 31 columns of the information-operations
// releases' tweets files, CRLF line ends, quoted fields with newlines,
// hashed and unhashed accounts, and bad records (a date in another
// format, a short record, a bare quote, no tweetid).
const hashedUser = "d2c1f5c7a0b1e8f4c3d9a6b5e2f1c0d9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3"

func TestIOArchive(t *testing.T) {
	src, err := OpenIOArchiveCSV("testdata/io_tweets.csv", ingest.Position{})
	if err != nil {
		t.Fatal(err)
	}
	posts, bad := readAll(t, src)
	want := []postWant{
		{
			id: "860570335840317443", author: "847912349123452928", time: "2017-05-05T19:02:00.000Z",
			text: "Les #MacronLeaks confirment", lang: "fr",
			urls: []string{"http://bit.ly/2pVxY7q"}, hashtags: []string{"macronleaks"}, mentions: []string{"1976143068"},
			handle: "FrInfo_2017", followers: 1877, accountCreated: "2017-03-31T00:00:00Z",
		},
		{ // a retweet: its urls cell is the original's, and is dropped
			id: "860571106187186185", author: hashedUser, time: "2017-05-05T19:05:00.000Z",
			text: "RT @VeilleCitoyenne: Des milliers", lang: "fr",
			hashtags: []string{"macronleaks", "presidentielle2017"}, mentions: []string{"2905271733"},
			repostOf: "860564753871822854",
			handle:   hashedUser, followers: 41, accountCreated: "2017-04-20T00:00:00Z",
		},
		{ // quoted newlines, over lines 4-7
			id: "860570803639447559", author: "398411267", time: "2017-05-05T19:04:00.000Z",
			text: "@FrInfo_2017 Source ?\nCes « documents »", lang: "fr",
			urls:     []string{"https://www.lemonde.example.fr/les-decodeurs/article/2017/05/06/macronleaks-ce-que-l-on-sait.html"},
			mentions: []string{"847912349123452928"}, replyTo: "860570335840317443",
			handle: "ElodieM_75", followers: 534, accountCreated: "2011-10-26T00:00:00Z",
		},
		{ // counts written as floats by pandas
			id: "860571294893096964", author: "398411267", time: "2017-05-05T19:06:00.000Z",
			text: "Enfin une analyse", lang: "fr",
			urls:   []string{"https://twitter.com/VeilleCitoyenne/status/860564753871822854"},
			quote:  "860564753871822854",
			handle: "ElodieM_75", followers: 534, accountCreated: "2011-10-26T00:00:00Z",
		},
		{ // Python-repr lists, a comma inside a URL, &amp;, "und"
			id: "860571803448250371", author: "0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e", time: "2017-05-05T19:08:00.000Z",
			text: "Partagez & diffusez : l'info qu'ils cachent",
			urls: []string{"https://example.org/a,b?x=1", "https://example.org/c"}, hashtags: []string{"l'info", "macronleaks"},
			handle: "0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e", followers: 12, accountCreated: "2017-04-02T00:00:00Z",
		},
	}
	if len(posts) != len(want) {
		t.Fatalf("posts %s, want %d", ids(posts), len(want))
	}
	for i := range want {
		checkPost(t, posts[i], want[i])
	}
	if d := posts[2].Account.Description; d != "Prof d'histoire-géo.\nAvis perso." {
		t.Errorf("description %q: CRLF inside quotes should read as \\n", d)
	}
	checkBad(t, "io_tweets.csv", bad, []badRecord{
		{9, `field "tweet_time": "05/05/2017 19:07" is not a time like 2017-05-05 19:02`},
		{10, `field "record": 4 fields, the header has 31`},
		{11, `bare " in non-quoted-field`},
		{13, `field "tweetid": missing`},
	})
	fi, _ := os.Stat("testdata/io_tweets.csv")
	if pos := src.Position(); pos.Offset != fi.Size() || pos.Line != 13 {
		t.Errorf("end position %+v, want offset %d line 13", pos, fi.Size())
	}
}

func TestIOArchiveReordered(t *testing.T) {
	posts, bad := readAll(t, mustOpen(t, FormatIO, "testdata/io_reordered.csv", ingest.Position{}))
	if len(bad) != 0 || len(posts) != 2 {
		t.Fatalf("posts %s, bad %v", ids(posts), bad)
	}
	checkPost(t, posts[0], postWant{
		id: "860571112663162882", author: "1187239812", time: "2017-05-05T19:05:16.000Z",
		text: "RT @VeilleCitoyenne:", hashtags: []string{"macronleaks"}, repostOf: "860564753871822854",
	})
}

// TestIOArchiveResume stops after every record and reopens at the saved
// position (the header is read again, then the file sought).
func TestIOArchiveResume(t *testing.T) {
	all, allBad := readAll(t, mustOpen(t, FormatIO, "testdata/io_tweets.csv", ingest.Position{}))
	for stop := 1; stop <= len(all); stop++ {
		src := mustOpen(t, FormatIO, "testdata/io_tweets.csv", ingest.Position{})
		var got []post.Post
		var lines []int64
		for len(got) < stop {
			p, err := src.Next(context.Background())
			var re *ingest.RecordError
			switch {
			case errors.Is(err, io.EOF):
				t.Fatal("early EOF")
			case errors.As(err, &re):
				lines = append(lines, re.Line)
			case err == nil:
				got = append(got, p)
			}
		}
		pos := src.Position()
		src.Close()
		rest, restBad := readAll(t, mustOpen(t, FormatIO, "testdata/io_tweets.csv", pos))
		if a, b := ids(append(got, rest...)), ids(all); a != b {
			t.Errorf("stop after %d (at %+v): read %s, want %s", stop, pos, a, b)
		}
		for _, re := range restBad {
			lines = append(lines, re.Line)
		}
		var want []int64
		for _, re := range allBad {
			want = append(want, re.Line)
		}
		if !slices.Equal(lines, want) {
			t.Errorf("stop after %d: bad lines %v, want %v (line numbers must survive a resume)", stop, lines, want)
		}
	}
}

// TestIOArchiveLongRecord: an unterminated quote would make encoding/csv
// read to the end of the file; it is one bad record and reading resumes
// at the next line.
func TestIOArchiveLongRecord(t *testing.T) {
	head := "tweetid,userid,tweet_time,tweet_text\n"
	long := `2,u,2017-05-05 19:02,"never closed ` + strings.Repeat("x", ingest.MaxLineBytes+200<<10) + "\n"
	data := head + "1,u,2017-05-05 19:01,ok\n" + long + "3,u,2017-05-05 19:03,after\n"
	src, err := NewIOArchiveCSV("long.csv", strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	posts, bad := readAll(t, src)
	if ids(posts) != "1,3" {
		t.Errorf("posts %s, want 1,3", ids(posts))
	}
	checkBad(t, "long.csv", bad, []badRecord{{3, "longer than"}})
	if pos := src.Position(); pos.Offset != int64(len(data)) || pos.Line != 4 {
		t.Errorf("end position %+v, want offset %d line 4", pos, len(data))
	}
}

func TestIOArchiveHeader(t *testing.T) {
	for _, tc := range []struct{ name, data, err string }{
		{"empty", "", "empty file, no header"},
		{"missing required", "tweetid,tweet_text\n", "required columns missing: userid, tweet_time"},
	} {
		_, err := NewIOArchiveCSV("h.csv", strings.NewReader(tc.data))
		var re *ingest.RecordError
		if !errors.As(err, &re) || re.Line != 1 || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "h.csv") {
			t.Errorf("%s: %v, want a record error at h.csv:1 containing %q", tc.name, err, tc.err)
		}
	}
}

func TestParseList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		urls bool
		want []string
		err  string
	}{
		{in: "", want: nil},
		{in: "[]", want: nil},
		{in: "nan", want: nil},
		{in: "[foo, bar]", want: []string{"foo", "bar"}},
		{in: "[foo,bar]", want: []string{"foo", "bar"}},
		{in: "['foo', 'bar']", want: []string{"foo", "bar"}},
		{in: `["l'info", 'b\'c', 'd\\e', 'new\nline']`, want: []string{"l'info", "b'c", `d\e`, "new\nline"}},
		{in: "single", want: []string{"single"}},
		{in: "[123456, 789]", want: []string{"123456", "789"}},
		{in: "[http://a.example/x,y, https://b.example]", urls: true, want: []string{"http://a.example/x,y", "https://b.example"}},
		{in: "[http://a.example/x,y, https://b.example]", urls: false, want: []string{"http://a.example/x", "y", "https://b.example"}},
		{in: "['a', 'b", err: "unterminated quote"},
		{in: "['a' 'b']", err: "expected a comma"},
	} {
		got, err := parseList(tc.in, tc.urls)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseList(%q) = %q, %v; want error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("parseList(%q, %v) = %q, %v; want %q", tc.in, tc.urls, got, err, tc.want)
		}
	}
}

func TestIOFields(t *testing.T) {
	for _, tc := range []struct {
		fn   func(string) (string, error)
		in   string
		want string
		err  bool
	}{
		{fn: func(s string) (string, error) { return ioID(s), nil }, in: "860570335840317443.0", want: "860570335840317443"},
		{fn: func(s string) (string, error) { return ioID(s), nil }, in: "nan", want: ""},
		{fn: func(s string) (string, error) { return ioID(s), nil }, in: "a1b2.0", want: "a1b2.0"},
		{fn: func(s string) (string, error) { b, err := parseBool(s); return strconv.FormatBool(b), err }, in: "True", want: "true"},
		{fn: func(s string) (string, error) { b, err := parseBool(s); return strconv.FormatBool(b), err }, in: "maybe", err: true},
		{fn: func(s string) (string, error) { n, err := parseCount(s); return strconv.FormatInt(n, 10), err }, in: "1234.0", want: "1234"},
		{fn: func(s string) (string, error) { n, err := parseCount(s); return strconv.FormatInt(n, 10), err }, in: "-3", err: true},
		{fn: func(s string) (string, error) { n, err := parseCount(s); return strconv.FormatInt(n, 10), err }, in: "1e300", err: true},
		{fn: func(s string) (string, error) { n, err := parseCount(s); return strconv.FormatInt(n, 10), err }, in: "", want: "0"},
		{fn: func(s string) (string, error) {
			ts, err := parseIOTime(s)
			return ts.Format("2006-01-02T15:04:05Z07:00"), err
		}, in: "2017-05-05 19:02:33", want: "2017-05-05T19:02:33Z"},
		{fn: func(s string) (string, error) {
			ts, err := parseIOTime(s)
			return ts.Format("2006-01-02T15:04:05Z07:00"), err
		}, in: "2017-05-05T19:02:33+02:00", want: "2017-05-05T19:02:33+02:00"},
	} {
		got, err := tc.fn(tc.in)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("%q → %q, %v; want %q (error %v)", tc.in, got, err, tc.want, tc.err)
		}
	}
}
