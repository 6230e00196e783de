package pipeline

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/alert"
	"github.com/vigie-osint/vigie/bus"
	"github.com/vigie-osint/vigie/post"
)

// TestAlertStageQueuesWebhooks runs the alert stage on a real broker with
// the real webhook outbox: a risky cluster update delivered twice (as
// after a crash) raises one alert and queues one delivery per matching
// subscription; a later update within the cooldown queues none; a
// low-risk cluster none; offsets are committed once the outbox holds
// them.
func TestAlertStageQueuesWebhooks(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	o, err := alert.OpenOutbox(ctx, filepath.Join(t.TempDir(), "outbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	reg := &alert.Registry{Static: []alert.Subscription{
		{Name: "all", URL: "https://example.org/a", Format: "json", Secret: "s"},
		{Name: "lepen", URL: "https://example.org/b", Format: "slack", Secret: "s", Candidates: []string{"lepen"}},
		{Name: "macron", URL: "https://example.org/c", Format: "teams", Secret: "s", Candidates: []string{"macron"}},
	}, Outbox: o}
	n := &alert.Notifier{Outbox: o, Registry: reg, MinRisk: 50, Cooldown: time.Hour, MaxPayload: 64 << 10}
	at := time.Date(2017, 5, 5, 18, 0, 0, 0, time.UTC)
	risky := post.Cluster{ID: "c-1", Status: post.StatusActive, Detected: at, FirstSeen: at, LastSeen: at,
		Members: []string{"twitter:a", "twitter:b", "twitter:c"}, Signals: map[post.Kind]int{post.KindRepost: 4},
		Scores: post.Scores{Risk: 70}, Stance: map[string]post.StanceScore{"lepen": {Favour: 0.8}}, Target: "lepen", TargetStance: "favour"}
	later := risky
	later.Detected = at.Add(30 * time.Minute)
	calm := post.Cluster{ID: "c-2", Status: post.StatusActive, Detected: at, Members: []string{"twitter:d", "twitter:e", "twitter:f"}, Scores: post.Scores{Risk: 20}}
	var msgs []bus.Message
	for _, c := range []post.Cluster{risky, risky, calm, later} {
		v, err := post.Marshal(&c)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, bus.Message{Topic: e.topics.Clusters, Key: []byte(c.ID), Value: v})
	}
	if err := e.prod.Produce(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	st := &Alert{Consumer: e.consumer(t, "al", e.topics.Clusters), Producer: e.prod, Topics: e.topics, MinRisk: 50,
		BatchWait: 50 * time.Millisecond, Log: e.log, Stats: e.stats, Notifier: n}
	rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := st.Run(rctx); err != nil {
		t.Fatal(err)
	}
	ds, err := o.List(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	var subs []string
	for _, d := range ds {
		subs = append(subs, d.Subscription)
		if d.Cluster != "c-1" || d.State != alert.StatePending {
			t.Errorf("delivery %+v", d)
		}
	}
	slices.Sort(subs)
	if !slices.Equal(subs, []string{"all", "lepen"}) {
		t.Errorf("deliveries for %v, want all and lepen once each", subs)
	}
	as := e.drain(t, e.topics.Alerts, 1)
	a, err := post.DecodeAlert("x", as[0].Value)
	if err != nil || !slices.Equal(a.Targets, []string{"lepen"}) {
		t.Errorf("alert = %+v, %v", a, err)
	}
	if lag, err := bus.Lag(ctx, e.cfg, "al", e.topics.Clusters); err != nil || lag != 0 {
		t.Errorf("lag = %d, %v; want 0", lag, err)
	}
}
