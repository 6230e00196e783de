package alert

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vigie-osint/vigie/netguard"
	"github.com/vigie-osint/vigie/post"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}

const secret = "test-secret"

// receiver is a real HTTP server on loopback that verifies every
// delivery's signature and answers from a script.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int, r *http.Request) (status int, retryAfter string)
	hold   chan struct{} // when set, requests wait on it (a slow receiver)
}

type received struct {
	id, event string
	at        time.Time
	body      []byte
	sigErr    error
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{t: t}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := VerifyRequest(r, []byte(secret), time.Minute, 1<<20)
		rc.mu.Lock()
		n := len(rc.got)
		rc.got = append(rc.got, received{id: r.Header.Get(HeaderDelivery), event: r.Header.Get(HeaderEvent), at: time.Now(), body: body, sigErr: err})
		answer, hold := rc.answer, rc.hold
		rc.mu.Unlock()
		if hold != nil {
			select {
			case <-hold:
			case <-r.Context().Done():
				return
			}
		}
		status, ra := http.StatusOK, ""
		if answer != nil {
			status, ra = answer(n, r)
		}
		if ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) received() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got)
}

func loopback() netguard.Policy {
	return netguard.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
}

func cluster(id string, risk float64, detected time.Time) (post.Cluster, post.Alert) {
	c := post.Cluster{ID: id, Status: post.StatusActive, Platform: post.PlatformTwitter, Detected: detected,
		FirstSeen: detected.Add(-time.Hour), LastSeen: detected, Members: []string{"twitter:1", "twitter:2", "twitter:3"},
		Signals: map[post.Kind]int{post.KindRepost: 4}, EdgeCount: 3,
		TopObjects: []post.KeyCount{{Kind: post.KindRepost, Key: "twitter:99", Count: 3}},
		Scores:     post.Scores{Risk: risk, Reasons: []string{"synchronous reposts"}},
		Stance:     map[string]post.StanceScore{"macron": {Smear: 0.8}, "lepen": {Favour: 0.1}}, Target: "macron", TargetStance: "smear", BotShare: 0.5}
	return c, post.Alert{ID: "a-" + id, ClusterID: id, Rule: "risk>=min", Time: detected, Risk: risk, Size: 3, Summary: "3 accounts"}
}

type harness struct {
	outbox *Outbox
	reg    *Registry
	notif  *Notifier
	path   string
}

func newHarness(t *testing.T, subs ...Subscription) *harness { return newHarnessTB(t, subs...) }

func newHarnessTB(t testing.TB, subs ...Subscription) *harness {
	path := filepath.Join(t.TempDir(), "outbox.db")
	o, err := OpenOutbox(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	reg := &Registry{Static: subs, Outbox: o}
	return &harness{outbox: o, reg: reg, path: path,
		notif: &Notifier{Outbox: o, Registry: reg, MinRisk: 50, Cooldown: time.Hour, BaseURL: "http://vigie.test", MaxPayload: 64 << 10}}
}

func (h *harness) dispatch(t *testing.T, ctx context.Context) (*Stats, chan error) {
	st := &Stats{}
	d := &Dispatcher{Outbox: h.outbox, Registry: h.reg, Client: loopback().Client(2 * time.Second),
		BaseDelay: 20 * time.Millisecond, MaxDelay: 200 * time.Millisecond, Poll: 50 * time.Millisecond, MaxAttempts: 5, Stats: st, Seed: 7}
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	return st, done
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSignVerify(t *testing.T) {
	body := []byte(`{"version":1}`)
	now := time.Unix(1_700_000_000, 0)
	sig := Sign([]byte(secret), now.Unix(), body)
	ts := "1700000000"
	for _, tc := range []struct {
		name      string
		secret    string
		ts, sig   string
		body      []byte
		at        time.Time
		wantErr   error
		wantOther bool
	}{
		{"valid", secret, ts, sig, body, now, nil, false},
		{"rotation: second signature valid", secret, ts, "v1=00ff, " + sig, body, now, nil, false},
		{"wrong secret", "other", ts, sig, body, now, ErrBadSignature, false},
		{"tampered body", secret, ts, sig, []byte(`{"version":2}`), now, ErrBadSignature, false},
		{"replayed later", secret, ts, sig, body, now.Add(6 * time.Minute), ErrStale, false},
		{"from the future", secret, ts, sig, body, now.Add(-6 * time.Minute), ErrStale, false},
		{"timestamp moved", secret, "1700000001", sig, body, now, ErrBadSignature, false},
		{"no v1", secret, ts, "v0=abc", body, now, ErrNoSignature, false},
		{"bad timestamp", secret, "yesterday", sig, body, now, nil, true},
	} {
		err := Verify([]byte(tc.secret), tc.ts, tc.sig, tc.body, tc.at, 0)
		switch {
		case tc.wantOther:
			if err == nil {
				t.Errorf("%s: Verify succeeded, want an error", tc.name)
			}
		case !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil):
			t.Errorf("%s: Verify = %v, want %v", tc.name, err, tc.wantErr)
		}
	}
}

func TestMatch(t *testing.T) {
	c, a := cluster("c1", 70, time.Date(2017, 5, 5, 12, 0, 0, 0, time.UTC))
	for _, tc := range []struct {
		name string
		sub  Subscription
		want bool
	}{
		{"no filter", Subscription{}, true},
		{"min risk above", Subscription{MinRisk: 80}, false},
		{"candidate smeared", Subscription{Candidates: []string{"Macron"}}, true},
		{"other candidate", Subscription{Candidates: []string{"lepen"}}, false},
		{"signal", Subscription{Signals: []string{"link", "repost"}}, true},
		{"absent signal", Subscription{Signals: []string{"link"}}, false},
		{"language unknown matches", Subscription{Languages: []string{"de"}}, true},
	} {
		if got := tc.sub.MatchAlert(a, c, 50); got != tc.want {
			t.Errorf("%s: MatchAlert = %v, want %v", tc.name, got, tc.want)
		}
	}
	c.Extra = map[string]any{"languages": []any{"fr"}}
	if (&Subscription{Languages: []string{"de"}}).MatchAlert(a, c, 50) {
		t.Error("a German-only subscription matched a French cluster")
	}
	if !(&Subscription{Languages: []string{"fr"}}).MatchAlert(a, c, 50) {
		t.Error("a French subscription missed a French cluster")
	}
	c.Scores.Risk, a.Risk = 40, 40
	if (&Subscription{}).MatchAlert(a, c, 50) {
		t.Error("an alert below the global min risk matched")
	}
}

// TestDeliverRetries: a real receiver answers 500, then 429 with
// Retry-After: 1, then 200. The delivery arrives signed three times with
// the same body and ID, and the third attempt waits for Retry-After.
func TestDeliverRetries(t *testing.T) {
	rc := newReceiver(t)
	rc.answer = func(n int, _ *http.Request) (int, string) {
		switch n {
		case 0:
			return http.StatusInternalServerError, ""
		case 1:
			return http.StatusTooManyRequests, "1"
		}
		return http.StatusNoContent, ""
	}
	h := newHarness(t, Subscription{Name: "team", URL: rc.srv.URL + "/hook", Format: FormatJSON, Secret: secret})
	c, a := cluster("c1", 70, time.Date(2017, 5, 5, 12, 0, 0, 0, time.UTC))
	if err := h.notif.Notify(t.Context(), []post.Cluster{c}, []post.Alert{a}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	st, done := h.dispatch(t, ctx)
	waitFor(t, "delivery", func() bool { return st.Delivered.Load() == 1 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := rc.received()
	if len(got) != 3 {
		t.Fatalf("%d requests, want 3", len(got))
	}
	for i, r := range got {
		if r.sigErr != nil {
			t.Errorf("request %d: signature: %v", i, r.sigErr)
		}
		if r.id != got[0].id || string(r.body) != string(got[0].body) {
			t.Errorf("request %d: id %s body differs from the first attempt", i, r.id)
		}
	}
	if d := got[2].at.Sub(got[1].at); d < time.Second {
		t.Errorf("attempt after 429 Retry-After: 1 came %v later, want >= 1s", d)
	}
	var p Payload
	if err := json.Unmarshal(got[0].body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Version != PayloadVersion || p.Type != TypeAlert || p.Alert.ID != "a-c1" || p.Cluster.Size != 3 || p.ID != got[0].id ||
		p.Links["cluster"] != "http://vigie.test/clusters/c1" || !slices.Equal(p.Alert.Targets, []string{"macron"}) {
		t.Errorf("payload = %+v", p)
	}
	if st.Retried.Load() != 2 {
		t.Errorf("Retried = %d, want 2", st.Retried.Load())
	}
}

// TestGiveUp: a 400 is final; repeated 503s end after MaxAttempts.
func TestGiveUp(t *testing.T) {
	rc := newReceiver(t)
	rc.answer = func(_ int, r *http.Request) (int, string) {
		if strings.HasSuffix(r.URL.Path, "/bad") {
			return http.StatusBadRequest, ""
		}
		return http.StatusServiceUnavailable, ""
	}
	h := newHarness(t,
		Subscription{Name: "bad", URL: rc.srv.URL + "/bad", Secret: secret},
		Subscription{Name: "down", URL: rc.srv.URL + "/down", Secret: secret})
	c, a := cluster("c1", 70, time.Date(2017, 5, 5, 12, 0, 0, 0, time.UTC))
	if err := h.notif.Notify(t.Context(), []post.Cluster{c}, []post.Alert{a}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	st, done := h.dispatch(t, ctx)
	waitFor(t, "both given up", func() bool { return st.Failed.Load() == 2 })
	cancel()
	<-done
	per := map[string]int{}
	for _, r := range rc.received() {
		var p Payload
		json.Unmarshal(r.body, &p)
		per[p.Subscription]++
	}
	if per["bad"] != 1 || per["down"] != 5 {
		t.Errorf("attempts per subscription = %v, want bad 1, down 5", per)
	}
	ds, err := h.outbox.List(t.Context(), StateFailed, 10)
	if err != nil || len(ds) != 2 || ds[0].LastError == "" {
		t.Errorf("failed deliveries = %+v, %v", ds, err)
	}
}

// TestCooldownAndDedupe: a replayed update is queued once; a later update
// of the same cluster within the cooldown is not queued; after it, it is.
func TestCooldownAndDedupe(t *testing.T) {
	h := newHarness(t, Subscription{Name: "a", URL: "http://127.0.0.1:1/", Secret: secret},
		Subscription{Name: "b", URL: "http://127.0.0.1:1/", Secret: secret, Candidates: []string{"lepen"}})
	t0 := time.Date(2017, 5, 5, 12, 0, 0, 0, time.UTC)
	for _, step := range []struct {
		at   time.Time
		want int
	}{
		{t0, 1},                       // queued for a only: b wants lepen
		{t0, 1},                       // replay: same ID
		{t0.Add(30 * time.Minute), 1}, // within the cooldown
		{t0.Add(61 * time.Minute), 2}, // after it
	} {
		c, a := cluster("c1", 70, step.at)
		if err := h.notif.Notify(t.Context(), []post.Cluster{c}, []post.Alert{a}); err != nil {
			t.Fatal(err)
		}
		ds, _ := h.outbox.List(t.Context(), "", 10)
		if len(ds) != step.want {
			t.Errorf("after update at %s: %d deliveries, want %d", step.at.Format(time.Kitchen), len(ds), step.want)
		}
	}
}

// TestNoLossAcrossRestart: deliveries are queued, the dispatcher is
// stopped while the receiver holds a request, the outbox is closed and
// reopened, and a new dispatcher delivers every one of them.
func TestNoLossAcrossRestart(t *testing.T) {
	rc := newReceiver(t)
	rc.hold = make(chan struct{})
	sub := Subscription{Name: "team", URL: rc.srv.URL, Format: FormatSlack, Secret: secret}
	h := newHarness(t, sub)
	var cs []post.Cluster
	var as []post.Alert
	for i := range 5 {
		c, a := cluster(string(rune('a'+i)), 60+float64(i), time.Date(2017, 5, 5, 12, i, 0, 0, time.UTC))
		cs, as = append(cs, c), append(as, a)
	}
	if err := h.notif.Notify(t.Context(), cs, as); err != nil {
		t.Fatal(err)
	}
	queued, _ := h.outbox.List(t.Context(), "", 10)
	ctx, cancel := context.WithCancel(t.Context())
	_, done := h.dispatch(t, ctx)
	waitFor(t, "a request in flight", func() bool { return len(rc.received()) == 1 })
	cancel() // stop mid-delivery
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := h.outbox.Close(); err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	close(rc.hold)
	rc.hold = nil
	rc.mu.Unlock()

	o, err := OpenOutbox(t.Context(), h.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	h.outbox, h.reg.Outbox = o, o
	ctx, cancel = context.WithCancel(t.Context())
	st, done := h.dispatch(t, ctx)
	waitFor(t, "every delivery", func() bool { return st.Delivered.Load() == int64(len(queued)) })
	cancel()
	<-done
	ids := map[string]bool{}
	for _, r := range rc.received() {
		if r.sigErr != nil {
			t.Errorf("signature: %v", r.sigErr)
		}
		if r.event != TypeAlert {
			t.Errorf("event header %q", r.event)
		}
		ids[r.id] = true
	}
	for _, d := range queued {
		if !ids[d.ID] {
			t.Errorf("delivery %s lost across the restart", d.ID)
		}
	}
	counts, _ := o.Counts(t.Context())
	if counts[StatePending] != 0 || counts[StateDelivered] != 5 {
		t.Errorf("outbox counts = %v", counts)
	}
}

func TestEgressRefused(t *testing.T) {
	rc := newReceiver(t)
	res := Post(t.Context(), netguard.Policy{}.Client(time.Second), Subscription{Name: "x", URL: rc.srv.URL, Secret: secret}, "d-1", TypeTest, []byte("{}"), time.Now())
	if !errors.Is(res.Err, netguard.ErrRefused) || res.Retry {
		t.Errorf("Post to loopback without an allowance = %+v, want a final ErrRefused", res)
	}
	if len(rc.received()) != 0 {
		t.Error("the refused request reached the receiver")
	}
}

func TestBackoff(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 12; n++ {
		d := Backoff(n, time.Second, time.Minute, 0, rng)
		want := min(time.Second<<(n-1), time.Minute)
		if d < want/2 || d > want {
			t.Errorf("Backoff(%d) = %v, want in [%v, %v]", n, d, want/2, want)
		}
	}
	if d := Backoff(1, time.Second, time.Minute, 30*time.Second, rng); d != 30*time.Second {
		t.Errorf("Backoff with Retry-After 30s = %v", d)
	}
	now := time.Date(2017, 5, 5, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v    string
		want time.Duration
	}{{"", 0}, {"5", 5 * time.Second}, {"-1", 0}, {"junk", 0}, {"99999", time.Hour},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second}} {
		if got := parseRetryAfter(tc.v, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

func TestFormats(t *testing.T) {
	c, a := cluster("c1", 70, time.Date(2017, 5, 5, 12, 0, 0, 0, time.UTC))
	a.Summary = "<@channel> & friends"
	p := NewAlertPayload("s", a, c, "http://vigie.test", time.Unix(0, 0))
	for _, f := range Formats {
		b, err := Render(f, p, 64<<10)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: not JSON: %v", f, err)
		}
		switch f {
		case FormatSlack:
			if _, ok := v["blocks"]; !ok || !strings.Contains(string(b), "&lt;@channel&gt; &amp; friends") {
				t.Errorf("slack body lacks blocks or escaping: %s", b)
			}
		case FormatTeams:
			if v["type"] != "message" || !strings.Contains(string(b), "AdaptiveCard") {
				t.Errorf("teams body: %s", b)
			}
		case FormatJSON:
			if v["version"] != float64(1) {
				t.Errorf("json body: %s", b)
			}
		}
	}
	if _, err := Render("pdf", p, 0); err == nil {
		t.Error("unknown format rendered")
	}
	// The size limit trims, then refuses.
	c.Members = make([]string, 10)
	for i := range c.Members {
		c.Members[i] = strings.Repeat("m", 100)
	}
	p = NewAlertPayload("s", a, c, "", time.Unix(0, 0))
	full, _ := Encode(p, 0)
	trimmed, err := Encode(p, len(full)-1)
	if err != nil || len(trimmed) >= len(full) {
		t.Errorf("Encode with a limit: %d bytes, %v", len(trimmed), err)
	}
	if _, err := Encode(p, 100); err == nil {
		t.Error("a payload over the limit was accepted")
	}
}

func TestRegistry(t *testing.T) {
	h := newHarness(t, Subscription{Name: "cfg", URL: "https://example.org/", Secret: "x"})
	ctx := t.Context()
	if _, err := h.reg.Put(ctx, Subscription{Name: "cfg", URL: "https://example.org/"}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Put over a configured subscription: %v", err)
	}
	for _, bad := range []Subscription{{Name: "a b", URL: "https://x/"}, {Name: "ok", URL: "ftp://x/"}, {Name: "ok", URL: "https://x/", Format: "pdf"},
		{Name: "ok", URL: "https://x/", Signals: []string{"smoke"}}} {
		if _, err := h.reg.Put(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("Put(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
	s, err := h.reg.Put(ctx, Subscription{Name: "api", URL: "https://example.org/h", Candidates: []string{" Macron "}})
	if err != nil || len(s.Secret) != 64 || s.Candidates[0] != "macron" {
		t.Fatalf("Put = %+v, %v", s, err)
	}
	all, err := h.reg.List(ctx)
	if err != nil || len(all) != 2 || all[0].Source != "config" || all[1].Source != "api" || all[1].Secret != s.Secret {
		t.Errorf("List = %+v, %v", all, err)
	}
	if err := h.reg.Delete(ctx, "api"); err != nil {
		t.Fatal(err)
	}
	if err := h.reg.Delete(ctx, "api"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete = %v", err)
	}
}
