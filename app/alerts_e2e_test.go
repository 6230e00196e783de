package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/alert"
	"github.com/vigie-osint/vigie/config"
	"github.com/vigie-osint/vigie/pipeline"
	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/scenario"
	"github.com/vigie-osint/vigie/store"
)

// alertsE2E is the webhook and briefing half of TestEndToEnd, which
// replays the bundled scenario once with a webhook subscription pointing
// at a real receiver on loopback (allowed through alerts.allow_networks,
// as safe egress refuses loopback by default). It checks that signed
// alerts arrive for the planted networks and none for organic accounts,
// and that a briefing with charts is written and stored for every day of
// the scenario. It shares that replay rather than running its own, which
// under the race detector costs minutes.
type alertsE2E struct {
	truth scenario.Truth
	cfg   *config.Config
	rc    *httptest.Server

	mu  sync.Mutex
	got []alert.Payload
	bad []string

	bmu     sync.Mutex
	written map[string]bool
	days    []string
}

const e2eSecret = "e2e-secret"

// newAlertsE2E starts the receiver and points cfg's subscription at it.
func newAlertsE2E(t *testing.T, truth scenario.Truth, cfg *config.Config) *alertsE2E {
	h := &alertsE2E{truth: truth, cfg: cfg, written: map[string]bool{}}
	h.rc = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := alert.VerifyRequest(r, []byte(e2eSecret), time.Minute, 1<<20)
		h.mu.Lock()
		defer h.mu.Unlock()
		if err != nil {
			h.bad = append(h.bad, err.Error())
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var p alert.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			h.bad = append(h.bad, err.Error())
		}
		h.got = append(h.got, p)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.rc.Close)
	cfg.Alerts.AllowNetworks = []string{"127.0.0.0/8"}
	cfg.Alerts.Subscriptions = []config.Subscription{{Name: "newsroom", URL: h.rc.URL + "/hook", Format: "json", Secret: e2eSecret, Briefings: true}}
	cfg.Brief.CheckEvery = config.Duration(time.Second)
	for d := truth.Start; d.Before(truth.End); d = d.AddDate(0, 0, 1) {
		h.days = append(h.days, d.Format(time.DateOnly))
	}
	return h
}

// hook records the briefings the run writes.
func (h *alertsE2E) hook(o *Options) {
	o.OnBriefing = func(date string, final bool) {
		h.bmu.Lock()
		h.written[date] = true
		h.bmu.Unlock()
	}
}

// wait waits, once the pipeline has settled, for the briefings of every
// day and an empty outbox.
func (h *alertsE2E) wait(t *testing.T) {
	t.Helper()
	cfg, days := *h.cfg, h.days
	began := time.Now()
	// Wait for the briefings of every day and an empty outbox.
	ob, err := alert.OpenOutbox(t.Context(), cfg.Alerts.Outbox)
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		h.bmu.Lock()
		n := len(h.written)
		h.bmu.Unlock()
		counts, err := ob.Counts(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n == len(days) && counts[alert.StatePending] == 0 && counts[alert.StateDelivered] > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 3 min: briefings written for %v (want %v), outbox %v", h.written, days, counts)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("alerts e2e: briefings and deliveries done after %s", time.Since(began).Round(time.Millisecond))
}

// check checks the deliveries and briefings while r still serves its API;
// clusters are the run's active clusters.
func (h *alertsE2E) check(t *testing.T, r *runner, clusters map[string][]string) {
	t.Helper()
	truth, cfg, days := h.truth, *h.cfg, h.days
	h.mu.Lock()
	defer h.mu.Unlock()
	got, bad := h.got, h.bad
	if len(bad) > 0 {
		t.Errorf("receiver refused %d deliveries: %v", len(bad), bad)
	}
	planted := map[string]string{}
	for _, n := range truth.Networks {
		for _, m := range n.Members {
			planted[m] = n.Name
		}
	}
	alerted := map[string]bool{} // planted networks alerted on
	ids := map[string]bool{}
	briefings := map[string]bool{}
	for _, p := range got {
		if ids[p.ID] {
			continue // at-least-once: a duplicate is allowed, counted once
		}
		ids[p.ID] = true
		switch p.Type {
		case alert.TypeBriefing:
			briefings[p.Briefing.Date] = true
			continue
		case alert.TypeAlert:
		default:
			t.Errorf("unexpected payload type %q", p.Type)
			continue
		}
		members, ok := clusters[p.Cluster.ID]
		if !ok {
			var c post.Cluster
			getJSON(t, r.url+"/api/clusters/"+p.Cluster.ID, &c) // may be merged since: still stored
			members = c.Members
		}
		inPlanted := 0
		nets := map[string]int{}
		for _, m := range members {
			if n, ok := planted[m]; ok {
				inPlanted++
				nets[n]++
			}
		}
		if len(members) == 0 || float64(inPlanted) < 0.8*float64(len(members)) {
			t.Errorf("alert %s on cluster %s: %d of %d members planted: an alert on organic activity", p.ID, p.Cluster.ID, inPlanted, len(members))
		}
		for n := range nets {
			alerted[n] = true
		}
		if p.Version != alert.PayloadVersion || p.Alert == nil || p.Alert.Risk < cfg.Alerts.MinRisk || p.Links["cluster"] == "" {
			t.Errorf("payload %s malformed: %+v", p.ID, p)
		}
	}
	var missed []string
	for _, n := range truth.Networks {
		if !alerted[n.Name] {
			missed = append(missed, n.Name)
		}
	}
	t.Logf("alerts e2e: %d deliveries (%d distinct), planted networks alerted %d of %d (missed %v), briefings announced %d",
		len(got), len(ids), len(alerted), len(truth.Networks), missed, len(briefings))
	if len(alerted) < len(truth.Networks)-1 {
		t.Errorf("alerts reached the receiver for %d of %d planted networks (missed %v)", len(alerted), len(truth.Networks), missed)
	}

	// A briefing with charts for every day, stored and on disk.
	st, err := openStore(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, d := range days {
		b, err := st.GetBriefing(t.Context(), d)
		if err != nil {
			t.Errorf("briefing %s: %v", d, err)
			continue
		}
		if n := strings.Count(b.HTML, `src="data:image/png;base64,`); n < 2 {
			t.Errorf("briefing %s embeds %d charts, want at least 2", d, n)
		}
		if !strings.Contains(b.Markdown, "## Executive summary") || b.Summary == "" {
			t.Errorf("briefing %s lacks its summary", d)
		}
		for _, f := range []string{d + ".html", d + ".md", d + "-activity.png", d + "-network.png"} {
			if fi, err := os.Stat(filepath.Join(cfg.Brief.Dir, f)); err != nil || fi.Size() == 0 {
				t.Errorf("briefing file %s: %v", f, err)
			}
		}
		if !briefings[d] {
			t.Errorf("briefing %s was not announced to the subscriber", d)
		}
	}
	list, err := st.ListBriefings(t.Context(), store.BriefingQuery{})
	if err != nil || len(list) != len(days) || list[0].Date != days[len(days)-1] {
		t.Errorf("ListBriefings = %+v, %v; want %d days, newest first", list, err, len(days))
	}
}

// startWith is start (e2e_test.go) with a hook on the options.
func startWith(t *testing.T, cfg config.Config, opt func(*Options)) *runner {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{stats: &pipeline.Stats{}, addr: make(chan string, 1), done: make(chan error, 1), cancel: cancel}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	o := Options{Config: cfg, Stats: r.stats, Log: log, OnReady: func(a string) { r.addr <- a }}
	opt(&o)
	go func() { r.done <- Run(ctx, o) }()
	select {
	case a := <-r.addr:
		r.url = "http://" + a
	case err := <-r.done:
		t.Fatalf("Run ended before it was ready: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("not ready after 60 s")
	}
	return r
}
