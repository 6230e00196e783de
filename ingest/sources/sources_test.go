package sources

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/vigie-osint/vigie/config"
	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/post"
)

// TestRegistryMatchesConfig: config validates ingest.format against its
// own list (it cannot import the readers); it must be this registry's.
func TestRegistryMatchesConfig(t *testing.T) {
	if !slices.Equal(All(), config.IngestFormats) {
		t.Fatalf("config.IngestFormats = %v\nregistry          = %v", config.IngestFormats, All())
	}
}

// TestOpenEveryFileFormat opens a sample of each file format through the
// registry and reads it to its end.
func TestOpenEveryFileFormat(t *testing.T) {
	mapped := ingest.FieldMapping{ID: "Tweet ID", Author: "User", Time: "Posted", ListSeparator: ";"}
	jmapped := ingest.FieldMapping{ID: "post.id", Author: "user.id", Time: "post.ts"}
	tests := []struct {
		format, path string
		opts         FileOptions
		posts        int
	}{
		{FormatJSONL, "../testdata/mixed.jsonl", FileOptions{}, 3},
		{FormatJSONMapped, "../testdata/mapped.jsonl", FileOptions{Mapping: jmapped}, 2},
		{FormatCooRTweet, "../testdata/coortweet_russian.csv", FileOptions{}, -1},
		{FormatCNT, "../testdata/cnt.csv", FileOptions{}, -1},
		{FormatCSV, "../testdata/mapped.csv", FileOptions{Mapping: mapped}, 2},
		{FormatTwitterV1, "../twitter/testdata/v1.jsonl", FileOptions{}, -1},
		{FormatTwitterV2, "../twitter/testdata/v2.jsonl", FileOptions{}, -1},
		{FormatTwarc2, "../twitter/testdata/v2.jsonl", FileOptions{}, -1},
		{FormatIOArchive, "../twitter/testdata/io_tweets.csv", FileOptions{}, -1},
		{"twitter-io", "../twitter/testdata/io_tweets.csv", FileOptions{}, -1},
		{FormatTelegram, "../telegram/testdata/result.json", FileOptions{}, -1},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			seen[normal(tt.format)] = true
			o := tt.opts
			o.Format, o.Path = tt.format, tt.path
			src, err := OpenFile(context.Background(), o, ingest.Position{})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			n := 0
			for {
				_, err := src.Next(context.Background())
				if errors.Is(err, io.EOF) {
					break
				}
				var re *ingest.RecordError
				if err != nil && !errors.As(err, &re) {
					t.Fatal(err)
				}
				if err == nil {
					n++
				}
			}
			if n == 0 || (tt.posts >= 0 && n != tt.posts) {
				t.Errorf("%d posts, want %d (-1: some)", n, tt.posts)
			}
		})
	}
	for _, f := range Formats() {
		if !seen[f] {
			t.Errorf("format %s has no sample in this test", f)
		}
	}
	for _, bad := range []string{"xml", "mastodon"} {
		if _, err := OpenFile(context.Background(), FileOptions{Format: bad, Path: "x"}, ingest.Position{}); err == nil {
			t.Errorf("format %q accepted", bad)
		}
	}
}

func TestMastodonURL(t *testing.T) {
	for _, tt := range []struct{ server, timeline, want string }{
		{"https://m.social", "public", "https://m.social/api/v1/streaming/public"},
		{"m.social/", "public:local", "https://m.social/api/v1/streaming/public/local"},
		{"https://m.social", "hashtag:#Vote", "https://m.social/api/v1/streaming/hashtag?tag=Vote"},
		{"https://m.social", "hashtag:vote:local", "https://m.social/api/v1/streaming/hashtag/local?tag=vote"},
		{"https://m.social", "list:42", "https://m.social/api/v1/streaming/list?list=42"},
		{"https://m.social", "nonsense", ""},
		{"https://m.social", "hashtag:", ""},
		{"", "public", ""},
	} {
		o := LiveOptions{Kind: LiveMastodon, Server: tt.server, Timeline: tt.timeline}
		got, err := o.mastodonURL()
		if (tt.want == "") != (err != nil) || got != tt.want {
			t.Errorf("%s %s = %q, %v; want %q", tt.server, tt.timeline, got, err, tt.want)
		}
	}
}

// status is a minimal Mastodon Status.
func status(id string, sec int, text string) string {
	return fmt.Sprintf(`{"id":%q,"created_at":"2024-01-01T00:00:%02dZ","content":"<p>%s</p>","visibility":"public","account":{"id":"1","username":"alice","acct":"alice"}}`, id, sec, text)
}

// drainKeys reads n posts through a normaliser, as the ingest stage does,
// and returns the keys that passed and how many were dropped as
// duplicates.
func drainKeys(t *testing.T, ctx context.Context, src ingest.Source, n int) (keys []string, dups int) {
	t.Helper()
	norm := ingest.NewNormaliser(100)
	for len(keys) < n {
		p, err := src.Next(ctx)
		if err != nil {
			t.Fatalf("after %v: %v", keys, err)
		}
		if err := norm.Apply(ctx, &p); errors.Is(err, ingest.ErrDuplicate) {
			dups++
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, p.ID+"="+p.Text)
	}
	return keys, dups
}

// TestMastodonBackfillThenLive: the REST backfill is read, then the stream
// starts from its newest status: the stream's REST catch-up fills the gap
// (status 4, posted in between), the stream's redelivery of it and of 3
// are dropped, an edit of 2 passes, and the live status 5 follows.
func TestMastodonBackfillThenLive(t *testing.T) {
	var mu sync.Mutex
	var catchUp []string
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/timelines/public", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if min := r.URL.Query().Get("min_id"); min != "" {
			mu.Lock()
			catchUp = append(catchUp, min)
			mu.Unlock()
			if min == "3" {
				fmt.Fprintf(w, "[%s]", status("4", 4, "four"))
				return
			}
			fmt.Fprint(w, "[]")
			return
		}
		// The backfill: newest first, one page, no next link.
		fmt.Fprintf(w, "[%s,%s,%s]", status("3", 3, "three"), status("2", 2, "two"), status("1", 1, "one"))
	})
	mux.HandleFunc("/api/v1/streaming/public", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		for _, ev := range []string{
			"event: update\ndata: " + status("3", 3, "three") + "\n\n",
			"event: update\ndata: " + status("4", 4, "four") + "\n\n",
			"event: status.update\ndata: " + status("2", 2, "two, edited") + "\n\n",
			"event: update\ndata: " + status("5", 5, "five") + "\n\n",
		} {
			fmt.Fprint(w, ev)
			fl.Flush()
		}
		<-r.Context().Done()
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	t.Setenv("VIGIE_MASTODON_TOKEN", "")
	o := LiveOptions{Kind: LiveMastodon, Server: srv.URL, Timeline: "public", Backfill: true}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	src, err := OpenLive(ctx, o, ingest.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	host = host[:strings.LastIndexByte(host, ':')]
	keys, dups := drainKeys(t, ctx, src, 6)
	want := []string{"3=three", "2=two", "1=one", "4=four", "2=two, edited", "5=five"}
	for i := range want {
		want[i] = host + ":" + want[i]
	}
	if !slices.Equal(keys, want) {
		t.Errorf("posts\n got %v\nwant %v", keys, want)
	}
	if dups != 1 { // the stream's copy of 3 (its own dedupe drops 4's)
		t.Errorf("%d duplicates dropped, want 1", dups)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(catchUp) == 0 || catchUp[0] != "3" {
		t.Errorf("catch-up min_id %v, want 3 (the backfill's newest)", catchUp)
	}
	c := src.(*Chain)
	if !c.Live() || !strings.HasPrefix(c.Position().Cursor, liveMark) {
		t.Errorf("chain not live or position %+v unmarked", c.Position())
	}
}

// TestFileThenBluesky: a JSONL file of Bluesky posts is read, then
// Jetstream is asked to replay from the newest post's time; the replayed
// copy of a post the file held is dropped by the normaliser, the new one
// passes. A restart from the live position skips the file.
func TestFileThenBluesky(t *testing.T) {
	raw, err := os.ReadFile("../bluesky/testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := bytes.Cut(raw, []byte("\n"))
	var ev map[string]any
	if err := json.Unmarshal(first, &ev); err != nil {
		t.Fatal(err)
	}
	timeUS := int64(ev["time_us"].(float64))
	later := bytes.Replace(first, []byte(fmt.Sprint(timeUS)), []byte(fmt.Sprint(timeUS+5_000_000)), 1)
	later = bytes.Replace(later, []byte(`"rkey":"`), []byte(`"rkey":"zz`), 1)

	var mu sync.Mutex
	var cursors []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		cursors = append(cursors, r.URL.Query().Get("cursor"))
		mu.Unlock()
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for _, m := range [][]byte{first, later} {
			if err := c.Write(r.Context(), websocket.MessageText, m); err != nil {
				return
			}
		}
		<-r.Context().Done()
	}))
	defer srv.Close()
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/subscribe"

	// The file: the first event's post, as a Vigie JSONL export.
	live, err := OpenNamed(context.Background(), LiveBluesky, wsURL, FileOptions{}, nil, ingest.Position{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := live.Next(ctx)
	live.Close()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "bsky.jsonl")
	b, _ := post.Marshal(&p)
	if err := os.WriteFile(file, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	cursors = nil
	mu.Unlock()

	o := LiveOptions{Kind: LiveBluesky, Jetstream: wsURL, FromFile: file}
	src, err := OpenLive(ctx, o, ingest.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	keys, dups := drainKeys(t, ctx, src, 2)
	if len(keys) != 2 || !strings.HasPrefix(keys[0], p.ID+"=") || !strings.Contains(keys[1], "/zz") || dups != 1 {
		t.Errorf("posts %v, %d duplicates; want the file's post, then the new one, 1 duplicate", keys, dups)
	}
	mu.Lock()
	if len(cursors) != 1 || cursors[0] == "" || cursors[0] > fmt.Sprint(timeUS) {
		t.Errorf("jetstream cursors %v, want one at or before %d", cursors, timeUS)
	}
	mu.Unlock()

	// Restart from the live position: the file is not read again.
	pos := src.Position()
	src2, err := OpenLive(ctx, o, pos)
	if err != nil {
		t.Fatal(err)
	}
	defer src2.Close()
	if c := src2.(*Chain); !c.Live() {
		t.Error("a chain restarted from a live position reads its file again")
	}
}

// TestChainSwitchesAtEOF covers the switch with plain files, counting
// the handoff.
func TestChainHandoff(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, posts ...post.Post) string {
		var b bytes.Buffer
		w := bufio.NewWriter(&b)
		for i := range posts {
			v, _ := post.Marshal(&posts[i])
			w.Write(append(v, '\n'))
		}
		w.Flush()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func(id string, sec int) post.Post {
		return post.Post{Schema: 1, Platform: post.PlatformMastodon, ID: "m.social:" + id, Author: "a", Time: at.Add(time.Duration(sec) * time.Second)}
	}
	a := write("a.jsonl", mk("9", 9), mk("10", 3), mk("8", 12))
	b := write("b.jsonl", mk("11", 20))
	var got Handoff
	c, err := OpenChain(context.Background(), ingest.Position{},
		func(ctx context.Context, from ingest.Position) (ingest.Source, error) {
			return ingest.OpenJSONL(a, from)
		},
		func(ctx context.Context, h Handoff, from ingest.Position) (ingest.Source, error) {
			got = h
			return ingest.OpenJSONL(b, from)
		})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var ids []string
	for {
		p, err := c.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	if len(ids) != 4 || got.Posts != 3 || got.MaxID != "10" || !got.Newest.Equal(at.Add(12*time.Second)) {
		t.Errorf("ids %v, handoff %+v", ids, got)
	}
	if pos := c.Position(); pos.Cursor != liveMark || pos.Line != 1 {
		t.Errorf("position after the switch %+v", pos)
	}
}

// TestTwitterStreamOptions opens the filter stream through LiveOptions,
// credentials from the environment, against a loopback server, and
// checks the predicates it sends and the tweet it reads.
func TestTwitterStreamOptions(t *testing.T) {
	raw, err := os.ReadFile("../twitter/testdata/v1/plain.json")
	if err != nil {
		t.Fatal(err)
	}
	var tweet bytes.Buffer
	if err := json.Compact(&tweet, raw); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var track string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/1.1/statuses/filter.json" || !strings.HasPrefix(r.Header.Get("Authorization"), "OAuth ") {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		r.ParseForm()
		mu.Lock()
		track = r.Form.Get("track")
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(append(tweet.Bytes(), '\r', '\n'))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	for _, k := range []string{"CONSUMER_KEY", "CONSUMER_SECRET", "ACCESS_TOKEN", "ACCESS_SECRET"} {
		t.Setenv("VIGIE_TWITTER_"+k, "test-"+k)
	}
	o := LiveOptions{Kind: LiveTwitter, Track: []string{"macron", "lepen"}, StreamURL: srv.URL + "/1.1/"}
	name, err := o.Name()
	if err != nil || name != "twitter-stream:track=macron%2Clepen" {
		t.Errorf("name %q, %v", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	src, err := OpenLive(ctx, o, ingest.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	p, err := src.Next(ctx)
	if err != nil || p.Platform != post.PlatformTwitter || p.ID == "" {
		t.Fatalf("post %+v, %v", p, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if track != "macron,lepen" {
		t.Errorf("track sent = %q", track)
	}
	if _, err := OpenLive(ctx, LiveOptions{Kind: LiveBluesky, Backfill: true}, ingest.Position{}); err == nil {
		t.Error("--backfill accepted for bluesky")
	}
}
