package twitter

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/post"
)

// streamServer speaks the v1.1 streaming protocol on loopback: it checks
// the OAuth1 signature of every connection, answers with a status, then
// (for 200) writes messages as a chunked body, each message delimited by
// "\r\n", keep-alives as bare "\r\n", and ends each connection as its
// script says: a clean end, a drop in the middle of a message (the
// connection is aborted, so the client sees a truncated chunked body), a
// silent hold, or a hang-up before any answer.
type streamServer struct {
	t     *testing.T
	creds Credentials
	srv   *httptest.Server

	mu      sync.Mutex
	scripts []conn
	served  int
	queries []url.Values
}

type ending int

const (
	endClean  ending = iota // the body ends normally
	endDrop                 // the connection is cut mid-stream
	endHold                 // silence until the client goes away
	endHangup               // the connection closes before any answer
)

type conn struct {
	status int    // 0 = 200
	body   string // error answer
	chunks []string
	end    ending
}

const keepAlive = "\r\n"

// msg frames one message as the stream does.
func msg(t *testing.T, raw []byte) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatal(err)
	}
	return b.String() + "\r\n"
}

// sample returns a testdata/v1 tweet framed for the stream.
func sample(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile("testdata/v1/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	return msg(t, raw)
}

func newStreamServer(t *testing.T, creds Credentials, scripts ...conn) *streamServer {
	s := &streamServer{t: t, creds: creds, scripts: scripts}
	s.srv = httptest.NewServer(s)
	t.Cleanup(s.srv.Close)
	return s
}

func (s *streamServer) url() string { return s.srv.URL + "/1.1/" }

func (s *streamServer) connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.served
}

func (s *streamServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/1.1/statuses/filter.json" {
		http.Error(w, "Unknown URL", http.StatusNotFound)
		return
	}
	if err := checkOAuth(r, s.creds); err != nil {
		s.t.Errorf("connection refused: %v", err)
		w.Header().Set("WWW-Authenticate", `OAuth realm="Firehose"`)
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	s.queries = append(s.queries, r.URL.Query())
	if s.served >= len(s.scripts) {
		s.mu.Unlock()
		<-r.Context().Done() // no more scripts: hold
		return
	}
	c := s.scripts[s.served]
	s.served++
	s.mu.Unlock()
	if c.end == endHangup {
		panic(http.ErrAbortHandler)
	}
	if c.status != 0 {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(c.status)
		io.WriteString(w, c.body)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	rc.Flush()
	for _, ch := range c.chunks {
		io.WriteString(w, ch)
		if err := rc.Flush(); err != nil {
			return
		}
	}
	switch c.end {
	case endDrop:
		panic(http.ErrAbortHandler)
	case endHold:
		<-r.Context().Done()
	}
}

// checkOAuth verifies an OAuth1 HMAC-SHA1 signature as Twitter does
// (RFC 5849: the base string is the method, the URL without query, and
// the sorted, percent-encoded oauth_* and query parameters).
func checkOAuth(r *http.Request, c Credentials) error {
	h := r.Header.Get("Authorization")
	if !strings.HasPrefix(h, "OAuth ") {
		return fmt.Errorf("no OAuth header: %q", h)
	}
	params := url.Values{}
	for _, kv := range strings.Split(strings.TrimPrefix(h, "OAuth "), ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return fmt.Errorf("bad OAuth parameter %q", kv)
		}
		v, err := url.QueryUnescape(strings.Trim(v, `"`))
		if err != nil {
			return err
		}
		params.Set(k, v)
	}
	sig := params.Get("oauth_signature")
	params.Del("oauth_signature")
	if params.Get("oauth_consumer_key") != c.ConsumerKey || params.Get("oauth_token") != c.AccessToken || params.Get("oauth_signature_method") != "HMAC-SHA1" {
		return errors.New("wrong consumer key, token or method")
	}
	for k, vs := range r.URL.Query() {
		params[k] = append(params[k], vs...)
	}
	var pairs []string
	for k, vs := range params {
		for _, v := range vs {
			pairs = append(pairs, pctEncode(k)+"="+pctEncode(v))
		}
	}
	sort.Strings(pairs)
	base := r.Method + "&" + pctEncode("http://"+r.Host+r.URL.Path) + "&" + pctEncode(strings.Join(pairs, "&"))
	mac := hmac.New(sha1.New, []byte(pctEncode(c.ConsumerSecret)+"&"+pctEncode(c.AccessSecret)))
	mac.Write([]byte(base))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); sig != want {
		return fmt.Errorf("bad signature %q over %q", sig, base)
	}
	return nil
}

func pctEncode(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// sleeps records the stream's backoff waits instead of sleeping them, so
// a 420 costs the test nothing and the schedule is exact.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.d)
}

func openTestStream(t *testing.T, srv *streamServer, stall time.Duration) (*Stream, *sleeps) {
	t.Helper()
	st, err := NewStream(StreamConfig{
		Track: []string{"#MacronLeaks", "macronleaks"}, Follow: []string{"2905271733"},
		Credentials: testCreds, BaseURL: srv.url(), StallTimeout: stall,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	sl := &sleeps{}
	st.rt.sleep = sl.sleep
	return st, sl
}

// next reads n posts (and the record errors on the way) within a deadline.
func next(t *testing.T, st *Stream, n int) (posts []post.Post, bad []*ingest.RecordError) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for len(posts) < n {
		p, err := st.Next(ctx)
		var re *ingest.RecordError
		switch {
		case errors.As(err, &re):
			bad = append(bad, re)
		case err != nil:
			t.Fatalf("after %d posts: %v", len(posts), err)
		default:
			posts = append(posts, p)
		}
	}
	return posts, bad
}

// streamed adjusts an expected post to the stream: go-twitter's Tweet
// has no timestamp_ms, so times have second precision.
func streamed(w postWant) postWant {
	w.time = w.time[:19] + ".000Z"
	w.observed = w.time
	return w
}

// TestStream runs the stream against the loopback server through a 420,
// a connection dropped mid-message, a clean end of stream, a 503, bad
// messages, keep-alives and notices.
func TestStream(t *testing.T) {
	noLeaks(t)
	plain, ext, rt, rt2 := sample(t, "plain"), sample(t, "extended_compat"), sample(t, "retweet"), sample(t, "retweet2")
	var noUser map[string]any
	if err := json.Unmarshal([]byte(plain), &noUser); err != nil {
		t.Fatal(err)
	}
	delete(noUser, "user")
	noUserMsg, _ := json.Marshal(noUser)
	srv := newStreamServer(t, testCreds,
		conn{status: 420, body: "Exceeded connection limit for user"},
		conn{chunks: []string{
			keepAlive, plain,
			`{"delete":{"status":{"id":860569912337625088,"id_str":"860569912337625088","user_id":4812345678,"user_id_str":"4812345678"},"timestamp_ms":"1494010932001"}}` + "\r\n",
			keepAlive, ext[:100], ext[100:], // one message over two chunks
			`{"limit":{"track":41,"timestamp_ms":"1494011030120"}}` + "\r\n",
			rt[:3000], // dropped in the middle of the retweet
		}, end: endDrop},
		conn{chunks: []string{
			rt, keepAlive, rt2,
			`{"created_at":"Fri May 05 19:06:00 +0000 2017","id_str":"8605` + "\r\n", // cut by the sender
			string(noUserMsg) + "\r\n",
			sample(t, "quote"),
			`{"warning":{"code":"FALLING_BEHIND","message":"Your connection is falling behind and messages are being queued for delivery to you. Your queue is now over 60% full. You will be disconnected when the queue is full.","percent_full":60}}` + "\r\n",
			sample(t, "reply_extended_mode"), keepAlive, keepAlive,
			`{"disconnect":{"code":7,"stream_name":"vigie-statuses12345","reason":"admin logout"}}` + "\r\n",
		}, end: endClean},
		conn{status: 503, body: "Service Unavailable"},
		conn{chunks: []string{sample(t, "original")}, end: endHold},
	)
	st, sl := openTestStream(t, srv, time.Minute)
	posts, bad := next(t, st, 7)
	reply := wantReply // already whole seconds, and no timestamp_ms in extended mode
	want := []postWant{streamed(wantPlain), streamed(wantExtended), streamed(wantRetweet), streamed(wantRetweet2), streamed(wantQuote), reply, streamed(wantOriginal)}
	for i := range want {
		checkPost(t, posts[i], want[i])
	}
	// Messages are numbered from 1 across connections; the retweet cut by
	// the drop was never a message.
	if len(bad) != 2 || bad[0].Line != 7 || !strings.Contains(bad[0].Error(), "invalid JSON") ||
		bad[1].Line != 8 || !strings.Contains(bad[1].Error(), `field "user": missing`) || !strings.Contains(bad[1].Error(), "statuses/filter.json#8") {
		t.Errorf("record errors %v, want invalid JSON at message 7 and a missing user at message 8", bad)
	}
	if got := st.Position(); got.Cursor != wantOriginal.id {
		t.Errorf("position %+v, want cursor %s", got, wantOriginal.id)
	}
	if got, want := sl.got(), []time.Duration{RateStart, HTTPStart}; !slices.Equal(got, want) {
		t.Errorf("backoff waits %v, want %v (420, then 503; drops reconnect at once)", got, want)
	}
	if got := st.Skipped(); got["delete"] != 1 || got["limit"] != 1 || got["warning"] != 1 || got["disconnect"] != 1 || len(got) != 4 {
		t.Errorf("skipped %v", got)
	}
	if s := st.Stats(); s.Attempts != 5 || s.Connections != 3 || s.Failures != 2 || s.Waited != RateStart+HTTPStart {
		t.Errorf("stats %+v", s)
	}
	srv.mu.Lock()
	q := srv.queries[0]
	srv.mu.Unlock()
	if q.Get("track") != "#MacronLeaks,macronleaks" || q.Get("follow") != "2905271733" || q.Get("stall_warnings") != "true" {
		t.Errorf("filter parameters %v", q)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Next(context.Background()); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Next after Close: %v", err)
	}
}

// noLeaks checks, after the test and its cleanups (the server's close
// among them), that no goroutine was left behind.
func noLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

// TestStreamNetworkBackoff: hang-ups before any answer, and a 200 whose
// body ends before any byte, back off linearly; data resets the sequence.
func TestStreamNetworkBackoff(t *testing.T) {
	noLeaks(t)
	srv := newStreamServer(t, testCreds,
		conn{end: endHangup}, conn{end: endHangup}, conn{end: endHangup},
		conn{end: endClean}, // 200, empty body
		conn{chunks: []string{sample(t, "plain")}, end: endClean},
		conn{end: endHangup},
		conn{chunks: []string{sample(t, "quote")}, end: endHold},
	)
	st, sl := openTestStream(t, srv, time.Minute)
	defer st.Close()
	posts, _ := next(t, st, 2)
	if ids(posts) != wantPlain.id+","+wantQuote.id {
		t.Errorf("posts %s", ids(posts))
	}
	ms := time.Millisecond
	if got, want := sl.got(), []time.Duration{250 * ms, 500 * ms, 750 * ms, time.Second, 250 * ms}; !slices.Equal(got, want) {
		t.Errorf("waits %v, want %v", got, want)
	}
}

// TestStreamStall: a connection silent for longer than the stall timeout
// (no tweet, no keep-alive) is dropped and reopened at once.
func TestStreamStall(t *testing.T) {
	noLeaks(t)
	srv := newStreamServer(t, testCreds,
		conn{chunks: []string{sample(t, "plain")}, end: endHold},
		conn{chunks: []string{keepAlive, sample(t, "quote")}, end: endHold},
	)
	st, sl := openTestStream(t, srv, 150*time.Millisecond)
	defer st.Close()
	start := time.Now()
	posts, _ := next(t, st, 2)
	if ids(posts) != wantPlain.id+","+wantQuote.id || srv.connections() != 2 {
		t.Errorf("posts %s over %d connections", ids(posts), srv.connections())
	}
	if len(sl.got()) != 0 {
		t.Errorf("waits %v after a stall of a connection that had data, want none", sl.got())
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("reconnected after %s, before the stall timeout", d)
	}
}

// TestStreamFatal: statuses that retrying cannot fix end the stream with
// an *HTTPError, after one attempt.
func TestStreamFatal(t *testing.T) {
	for _, code := range []int{401, 403, 404, 406, 413, 416} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			noLeaks(t)
			srv := newStreamServer(t, testCreds, conn{status: code, body: http.StatusText(code)})
			st, sl := openTestStream(t, srv, time.Minute)
			defer st.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := st.Next(ctx)
			var he *HTTPError
			if !errors.As(err, &he) || he.StatusCode != code || !strings.Contains(err.Error(), http.StatusText(code)) {
				t.Fatalf("error %v, want an HTTPError %d", err, code)
			}
			if _, err2 := st.Next(ctx); !errors.Is(err2, he) {
				t.Errorf("second Next: %v, want the same fatal error", err2)
			}
			if srv.connections() != 1 || len(sl.got()) != 0 {
				t.Errorf("%d connections, waits %v; want one and none", srv.connections(), sl.got())
			}
		})
	}
}

// TestStreamClose: Close interrupts a Next waiting on a silent stream, and
// a backoff sleep, and leaves no goroutine behind.
func TestStreamClose(t *testing.T) {
	noLeaks(t)
	for _, tc := range []struct {
		name  string
		conns []conn
		real  bool // use the real sleeper
	}{
		{"silent connection", []conn{{chunks: []string{keepAlive}, end: endHold}}, false},
		{"during a 420 backoff", []conn{{status: 420}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newStreamServer(t, testCreds, tc.conns...)
			st, _ := openTestStream(t, srv, time.Minute)
			if tc.real {
				st.rt.sleep = sleepCtx
			}
			done := make(chan error, 1)
			go func() {
				_, err := st.Next(context.Background())
				done <- err
			}()
			for srv.connections() == 0 {
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(50 * time.Millisecond)
			closed := make(chan struct{})
			go func() { st.Close(); close(closed) }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "closed") {
					t.Errorf("Next returned %v, want closed", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Next did not return after Close")
			}
			select {
			case <-closed:
			case <-time.After(10 * time.Second):
				t.Fatal("Close did not return")
			}
		})
	}
}

func TestNewStreamErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  StreamConfig
		err  string
	}{
		{"no predicate", StreamConfig{Credentials: testCreds}, "at least one of track, follow, locations"},
		{"no credentials", StreamConfig{Track: []string{"x"}}, "credentials missing consumer_key, consumer_secret, access_token, access_secret"},
		{"bad base URL", StreamConfig{Track: []string{"x"}, Credentials: testCreds, BaseURL: "ftp://x/"}, `base URL "ftp://x/"`},
	} {
		_, err := NewStream(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.err)
		}
	}
}
