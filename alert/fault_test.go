package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/bus"
	"github.com/vigie-osint/vigie/pipeline"
	"github.com/vigie-osint/vigie/post"
)

// TestReceiverFailingThenRecovering (issue 11, fault tests): the real
// alert stage on a real (embedded) broker queues webhooks while the
// receiver first answers 500 and then hangs past the client timeout; the
// stage and its dispatcher are stopped and restarted from the same
// outbox file in the middle of that failure, with cluster updates still
// arriving and some re-delivered as after a crash. Once the receiver
// recovers, every (subscription, alert) is accepted exactly once, with a
// valid signature, and nothing stays pending or is given up.
//
// TestNoLossAcrossRestart covers a restart while one request is in
// flight, TestDeliverRetries the retry schedule of one delivery; this one
// is the whole path from the clusters topic, under a failing receiver.
func TestReceiverFailingThenRecovering(t *testing.T) {
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	busCfg := bus.Config{Brokers: []string{emb.Addr()}}
	topics := pipeline.TopicsWithPrefix("fault.")
	if err := bus.EnsureTopics(t.Context(), busCfg, bus.TopicSpec{Name: topics.Clusters, Partitions: 1, ReplicationFactor: 1},
		bus.TopicSpec{Name: topics.Alerts, Partitions: 1, ReplicationFactor: 1}, bus.TopicSpec{Name: topics.DeadLetter, Partitions: 1, ReplicationFactor: 1}); err != nil {
		t.Fatal(err)
	}
	prod, err := bus.NewProducer(busCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()

	// The receiver: 500 until failUntil, then hangs (the client times
	// out) until hangUntil, then 204. It counts, per delivery ID, the
	// requests it accepted: answered 2xx while the client still waited.
	var mode atomic.Int32 // 0 = 500, 1 = hang, 2 = accept
	var mu sync.Mutex
	accepted := map[string]int{}
	payloads := map[string]Payload{}
	var attempts, badSig atomic.Int64
	secrets := map[string]string{"ops": "ops-secret", "newsroom": "newsroom-secret"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		body, err := VerifyRequest(r, []byte(secrets[strings.TrimPrefix(r.URL.Path, "/")]), time.Minute, 1<<20)
		if err != nil {
			badSig.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch mode.Load() {
		case 0:
			w.WriteHeader(http.StatusInternalServerError)
			return
		case 1:
			<-r.Context().Done() // past the client's timeout
			return
		}
		var p Payload
		if err := json.Unmarshal(body, &p); err != nil {
			t.Errorf("payload: %v", err)
		}
		w.WriteHeader(http.StatusNoContent)
		if r.Context().Err() == nil {
			mu.Lock()
			accepted[r.Header.Get(HeaderDelivery)]++
			payloads[r.Header.Get(HeaderDelivery)] = p
			mu.Unlock()
		}
	}))
	defer srv.Close()
	subs := []Subscription{
		{Name: "ops", URL: srv.URL + "/ops", Format: FormatJSON, Secret: secrets["ops"]},
		{Name: "newsroom", URL: srv.URL + "/newsroom", Format: FormatJSON, Secret: secrets["newsroom"], Candidates: []string{"macron"}},
	}

	path := filepath.Join(t.TempDir(), "outbox.db")
	log := slog.New(slog.DiscardHandler)
	stats := &Stats{}
	// up starts the alert stage and its dispatcher on the outbox file;
	// the returned function stops both and closes the outbox.
	up := func() (stop func()) {
		o, err := OpenOutbox(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		reg := &Registry{Static: subs, Outbox: o}
		n := &Notifier{Outbox: o, Registry: reg, MinRisk: 50, Cooldown: time.Hour, BaseURL: "http://vigie.test", MaxPayload: 64 << 10}
		c, err := bus.NewConsumer(busCfg, "alert", topics.Clusters)
		if err != nil {
			t.Fatal(err)
		}
		st := &pipeline.Alert{Consumer: c, Producer: prod, Topics: topics, MinRisk: 50, BatchWait: 50 * time.Millisecond,
			Log: log, Stats: &pipeline.Stats{}, Notifier: n}
		d := &Dispatcher{Outbox: o, Registry: reg, Client: loopback().Client(300 * time.Millisecond),
			BaseDelay: 50 * time.Millisecond, MaxDelay: 400 * time.Millisecond, Poll: 50 * time.Millisecond, MaxAttempts: 1000, Stats: stats, Seed: 3}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := st.Run(ctx); err != nil {
				t.Errorf("alert stage: %v", err)
			}
		}()
		go func() {
			defer wg.Done()
			if err := d.Run(ctx); err != nil {
				t.Errorf("dispatcher: %v", err)
			}
		}()
		return func() {
			cancel()
			wg.Wait()
			c.Close()
			o.Close()
		}
	}

	// Ten risky clusters, two targeting Macron (the newsroom's filter),
	// and a calm one; sent in two waves around the restart.
	at := time.Date(2017, 5, 5, 18, 0, 0, 0, time.UTC)
	var updates []post.Cluster
	for i := range 10 {
		target := "lepen"
		if i%5 == 0 {
			target = "macron"
		}
		updates = append(updates, post.Cluster{ID: fmt.Sprintf("c-%02d", i), Status: post.StatusActive, Detected: at.Add(time.Duration(i) * time.Minute),
			FirstSeen: at, LastSeen: at, Members: []string{"twitter:a", "twitter:b", "twitter:c"}, Signals: map[post.Kind]int{post.KindRepost: 4},
			Scores: post.Scores{Risk: 60 + float64(i)}, Stance: map[string]post.StanceScore{target: {Smear: 0.8}}, Target: target, TargetStance: "smear"})
	}
	calm := post.Cluster{ID: "c-calm", Status: post.StatusActive, Detected: at, Members: []string{"twitter:d", "twitter:e", "twitter:f"}, Scores: post.Scores{Risk: 20}}
	send := func(cs ...post.Cluster) {
		var msgs []bus.Message
		for _, c := range cs {
			v, err := post.Marshal(&c)
			if err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, bus.Message{Topic: topics.Clusters, Key: []byte(c.ID), Value: v})
		}
		if err := prod.Produce(t.Context(), msgs...); err != nil {
			t.Fatal(err)
		}
	}

	stop := up()
	send(append(slices.Clone(updates[:6]), calm)...)
	waitFor(t, "failed attempts while the receiver answers 500", func() bool { return stats.Retried.Load() >= 10 })
	mode.Store(1)
	waitFor(t, "timed-out attempts while the receiver hangs", func() bool { return attempts.Load() >= 16 })

	// Restart mid-failure: the queued deliveries, their attempt counts
	// and their schedule must come back from the outbox file.
	stop()
	o, err := OpenOutbox(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	pending, err := o.List(t.Context(), StatePending, 100)
	o.Close()
	if err != nil {
		t.Fatal(err)
	}
	tried := 0
	for _, d := range pending {
		if d.Attempts > 0 {
			tried++
		}
	}
	if len(pending) == 0 || tried == 0 {
		t.Fatalf("after the stop: %d pending deliveries, %d with attempts recorded; want the failed ones kept", len(pending), tried)
	}
	stop = up()
	defer func() { stop() }()
	// The rest, and the first wave again (a re-delivery after a crash).
	send(append(slices.Clone(updates[6:]), updates[:6]...)...)
	time.Sleep(time.Second)
	mode.Store(2)

	// Expected: every risky cluster for ops, Macron's for the newsroom.
	want := map[string]string{} // delivery ID → "sub alert-ID"
	for _, c := range updates {
		a, _ := pipeline.Evaluate(c, 50)
		for _, s := range subs {
			if s.MatchAlert(a, c, 50) {
				want[DeliveryID(s.Name, AlertEventID(a, c))] = s.Name + " " + a.ID
			}
		}
	}
	waitFor(t, "every delivery accepted after the receiver recovered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(accepted) >= len(want)
	})
	time.Sleep(500 * time.Millisecond) // room for a duplicate to show
	stop()
	stop = func() {}

	mu.Lock()
	defer mu.Unlock()
	perSubAlert := map[string]int{}
	for id, n := range accepted {
		p := payloads[id]
		key := p.Subscription + " " + p.Alert.ID
		perSubAlert[key] += n
		if want[id] != key {
			t.Errorf("delivery %s (%s) accepted but not expected", id, key)
		}
	}
	for id, key := range want {
		if perSubAlert[key] != 1 {
			t.Errorf("%s (delivery %s) accepted %d times; want exactly once", key, id, perSubAlert[key])
		}
	}
	if badSig.Load() != 0 {
		t.Errorf("%d requests with a bad signature", badSig.Load())
	}
	o, err = OpenOutbox(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	counts, err := o.Counts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if counts[StatePending] != 0 || counts[StateFailed] != 0 || counts[StateDelivered] != len(want) {
		t.Errorf("outbox after recovery = %v; want %d delivered, none pending or failed", counts, len(want))
	}
	t.Logf("receiver failing: %d attempts (500s, then timeouts), restart with %d pending (%d already tried); %d (subscription, alert) pairs each accepted once",
		attempts.Load(), len(pending), tried, len(want))
}
