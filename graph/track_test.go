package graph

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// trackStep is one round of a cluster ID tracking case: at hour hours,
// each group reposts four objects together, then Detect runs.
type trackStep struct {
	hours  float64
	groups [][]string
	// ids labels the active cluster holding each group's first member.
	// A label names one ID across the whole case: the first time it is
	// seen it is bound to the ID found, later it must be the same ID, and
	// two labels never share an ID.
	ids []string
	// gone are the status records expected, by label: "expired" or
	// "merged:<label>".
	gone map[string]string
}

func members(prefix string, from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprint(prefix, i))
	}
	return out
}

// trackCases: Retention is 2h, so an edge is gone by the next step three
// hours later unless a step says otherwise, and each step's graph is the
// step's groups alone.
var trackCases = []struct {
	name  string
	steps []trackStep
}{
	{"grow", []trackStep{
		{0, [][]string{members("a", 1, 3)}, []string{"A"}, nil},
		{0.2, [][]string{members("a", 1, 9)}, []string{"A"}, nil},
	}},
	{"drift keeps the ID though the first edge changed", []trackStep{
		{0, [][]string{members("a", 1, 4)}, []string{"A"}, nil},
		{3, [][]string{members("a", 2, 5)}, []string{"A"}, nil},
		{6, [][]string{members("a", 3, 6)}, []string{"A"}, nil},
	}},
	{"merge: the larger overlap keeps its ID", []trackStep{
		{0, [][]string{members("x", 1, 4), members("y", 1, 5)}, []string{"X", "Y"}, nil},
		{3, [][]string{append(members("x", 1, 4), members("y", 1, 5)...)}, []string{"Y"}, map[string]string{"X": "merged:Y"}},
	}},
	{"merge of equals: the older keeps its ID", []trackStep{
		{0, [][]string{members("y", 1, 4)}, []string{"Y"}, nil},
		{1, [][]string{members("x", 1, 4), members("y", 1, 4)}, []string{"X", "Y"}, nil},
		{4, [][]string{append(members("x", 1, 4), members("y", 1, 4)...)}, []string{"Y"}, map[string]string{"X": "merged:Y"}},
	}},
	{"split: the biggest piece keeps the ID", []trackStep{
		{0, [][]string{members("s", 1, 7)}, []string{"S"}, nil},
		// s1-s2 named S: the smaller piece holds that edge and still
		// needs another ID.
		{3, [][]string{members("s", 1, 3), members("s", 4, 7)}, []string{"S1", "S"}, nil},
		{6, [][]string{members("s", 1, 3), members("s", 4, 7)}, []string{"S1", "S"}, nil},
	}},
	{"disappear and reappear", []trackStep{
		{0, [][]string{members("x", 1, 4), members("y", 1, 4)}, []string{"X", "Y"}, nil},
		{2.5, [][]string{members("z", 1, 3)}, []string{"Z"}, map[string]string{"X": "expired", "Y": "expired"}},
		// Back within Retention of its expiry, one member changed (so
		// its first edge is another): the dormant ID is taken again.
		{3, [][]string{members("x", 2, 5), members("z", 1, 3)}, []string{"X", "Z"}, nil},
	}},
	{"below the overlap threshold is a new cluster", []trackStep{
		{0, [][]string{members("a", 1, 10)}, []string{"A"}, nil},
		{3, [][]string{append(members("a", 1, 2), members("n", 1, 8)...)}, []string{"N"}, map[string]string{"A": "expired"}},
	}},
}

// runTrack plays a case and returns each step's Detect output as JSON.
// With restart, the engine is snapshotted and restored into a new one
// before every step.
func runTrack(t *testing.T, steps []trackStep, restart bool) []string {
	t.Helper()
	cfg := Config{Retention: 2 * time.Hour, WeakRetention: time.Hour}
	e := mustNew(t, cfg)
	n := 0
	label := map[string]string{} // label -> ID
	var outs []string
	for si, st := range steps {
		if restart {
			var b bytes.Buffer
			if err := e.Snapshot(&b); err != nil {
				t.Fatal(err)
			}
			e = mustNew(t, cfg)
			if err := e.Restore(&b); err != nil {
				t.Fatal(err)
			}
		}
		for gi, g := range st.groups {
			for k := range 4 {
				for _, p := range burst(&n, g, fmt.Sprint("o", si, "-", gi, "-", k), st.hours*3600+float64(gi*1000+k*100)) {
					e.Add(p)
				}
			}
		}
		out := e.Detect()
		j, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, string(j))
		byID := map[string]post.Cluster{}
		active := 0
		for _, c := range out {
			byID[c.ID] = c
			if c.Status == post.StatusActive {
				active++
			}
		}
		bind := func(l, id string) {
			t.Helper()
			if old, ok := label[l]; ok && old != id {
				t.Errorf("step %d: %s is %s, was %s", si, l, id, old)
			}
			for ol, oid := range label {
				if ol != l && oid == id {
					t.Errorf("step %d: %s and %s share ID %s", si, l, ol, id)
				}
			}
			label[l] = id
		}
		for gi, g := range st.groups {
			id := ""
			for _, c := range out {
				if c.Status == post.StatusActive && slices.Contains(c.Members, "twitter:"+g[0]) {
					id = c.ID
				}
			}
			if id == "" {
				t.Fatalf("step %d: no active cluster holds %s", si, g[0])
			}
			bind(st.ids[gi], id)
		}
		if want := len(slices.Compact(slices.Sorted(slices.Values(st.ids)))); active != want {
			t.Errorf("step %d: %d active clusters, want %d", si, active, want)
		}
		gone := map[string]string{}
		for _, c := range out {
			if c.Status == post.StatusActive {
				continue
			}
			l := c.ID
			for k, v := range label {
				if v == c.ID {
					l = k
				}
			}
			s := c.Status
			if c.MergedInto != "" {
				into := c.MergedInto
				for k, v := range label {
					if v == into {
						into = k
					}
				}
				s += ":" + into
			}
			gone[l] = s
		}
		if len(gone) != len(st.gone) {
			t.Errorf("step %d: status records %v, want %v", si, gone, st.gone)
		}
		for l, s := range st.gone {
			if gone[l] != s {
				t.Errorf("step %d: %s %q, want %q (all: %v)", si, l, gone[l], s, gone)
			}
		}
	}
	return outs
}

func TestTrackIDs(t *testing.T) {
	for _, tc := range trackCases {
		t.Run(tc.name, func(t *testing.T) {
			a := runTrack(t, tc.steps, false)
			b := runTrack(t, tc.steps, false)
			if strings.Join(a, "\n") != strings.Join(b, "\n") {
				t.Error("two runs differ")
			}
			if c := runTrack(t, tc.steps, true); strings.Join(a, "\n") != strings.Join(c, "\n") {
				t.Error("a run restarted from snapshots before each step differs")
			}
		})
	}
}

// TestDormantPruned: a retired cluster's ID is forgotten Retention after
// its retirement, so the registry stays bounded on an endless stream.
func TestDormantPruned(t *testing.T) {
	e := mustNew(t, Config{Retention: 2 * time.Hour, WeakRetention: time.Hour})
	n := 0
	for k := range 4 {
		for _, p := range burst(&n, members("x", 1, 4), fmt.Sprint("x", k), float64(k*100)) {
			e.Add(p)
		}
	}
	e.Detect()
	e.Add(rp("p1", "nobody", "nothing", 3*3600))
	if out := e.Detect(); len(out) != 1 || out[0].Status != post.StatusExpired {
		t.Fatalf("want one expired record, got %+v", out)
	}
	if len(e.registry) != 1 || !e.registry[slices.Collect(maps.Keys(e.registry))[0]].Dormant {
		t.Fatalf("registry %+v, want the dormant cluster", e.registry)
	}
	e.Add(rp("p2", "nobody", "nothing2", 5.5*3600))
	if out := e.Detect(); len(out) != 0 {
		t.Fatalf("dormant cluster emitted again: %+v", out)
	}
	if len(e.registry) != 0 {
		t.Errorf("registry holds %d entries after Retention, want 0", len(e.registry))
	}
	if e.Stats().Clusters != 0 {
		t.Errorf("Stats.Clusters %d, want 0", e.Stats().Clusters)
	}
}

// TestRestoreVersion2 reads a version 2 snapshot, whose registry holds
// active clusters only and no dormant fields, and continues as the
// engine that wrote it would.
func TestRestoreVersion2(t *testing.T) {
	cfg := Config{Retention: 2 * time.Hour, WeakRetention: time.Hour}
	a := mustNew(t, cfg)
	n := 0
	for k := range 4 {
		for _, p := range burst(&n, members("x", 1, 4), fmt.Sprint("x", k), float64(k*100)) {
			a.Add(p)
		}
	}
	a.Detect()
	var cur bytes.Buffer
	if err := a.Snapshot(&cur); err != nil {
		t.Fatal(err)
	}
	dec := gob.NewDecoder(&cur)
	var h snapHeader
	var s snapState
	if err := dec.Decode(&h); err != nil {
		t.Fatal(err)
	}
	if err := dec.Decode(&s); err != nil {
		t.Fatal(err)
	}
	// The version 2 registry entry, as gob wrote it: no dormant fields.
	type snapClusterV2 struct {
		ID        string
		Members   []string
		Platform  post.Platform
		FirstSeen time.Time
		LastSeen  time.Time
	}
	type snapStateV2 struct {
		Config    Config
		Started   bool
		MaxTime   int64
		NextSweep int64
		Seq       uint64
		Counters  counters
		Seen      []snapSeen
		Bufs      []snapBuf
		Edges     []snapEdge
		Registry  []snapClusterV2
		Text      snapNear
		Media     snapNear
	}
	old := snapStateV2{Config: s.Config, Started: s.Started, MaxTime: s.MaxTime, NextSweep: s.NextSweep, Seq: s.Seq,
		Counters: s.Counters, Seen: s.Seen, Bufs: s.Bufs, Edges: s.Edges, Text: s.Text, Media: s.Media}
	for _, c := range s.Registry {
		old.Registry = append(old.Registry, snapClusterV2{c.ID, c.Members, c.Platform, c.FirstSeen, c.LastSeen})
	}
	if len(old.Registry) != 1 {
		t.Fatalf("registry of %d clusters, want 1", len(old.Registry))
	}
	var v2 bytes.Buffer
	enc := gob.NewEncoder(&v2)
	if err := enc.Encode(snapHeader{Magic: snapshotMagic, Version: 2}); err != nil {
		t.Fatal(err)
	}
	if err := enc.Encode(&old); err != nil {
		t.Fatal(err)
	}
	b := mustNew(t, cfg)
	if err := b.Restore(&v2); err != nil {
		t.Fatalf("restore version 2: %v", err)
	}
	// Both retire the cluster when time passes.
	for _, e := range []*Engine{a, b} {
		e.Add(rp("p1", "nobody", "nothing", 3*3600))
	}
	ja, _ := json.Marshal(a.Detect())
	jb, _ := json.Marshal(b.Detect())
	if string(ja) != string(jb) || !strings.Contains(string(ja), post.StatusExpired) {
		t.Errorf("after restoring version 2:\n%s\nwant\n%s", jb, ja)
	}
}
