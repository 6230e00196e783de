package graph

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// detectEvery is how often (in posts) the snapshot tests run Detect, so
// the registry of emitted clusters is part of what must survive.
const detectEvery = 2500

// feed adds posts[from:to] to e, running Detect after every detectEvery-th
// post (by index in the whole stream) and recording its JSON.
func feed(t *testing.T, e *Engine, posts []*post.Post, from, to int, outs *[]string) {
	t.Helper()
	for i := from; i < to; i++ {
		e.Add(posts[i])
		if (i+1)%detectEvery == 0 || i == len(posts)-1 {
			b, err := json.Marshal(e.Detect())
			if err != nil {
				t.Fatal(err)
			}
			*outs = append(*outs, string(b))
		}
	}
}

func TestSnapshotRestore(t *testing.T) {
	s := genStream(4, []int{10, 16, 22}, 1000, 15000, 30)
	// A short-lived group at the start, whose cluster expires within the
	// run, so status records are part of what must survive.
	n := 0
	var posts []*post.Post
	for i := range 4 {
		posts = append(posts, burst(&n, []string{"q1", "q2", "q3", "q4"}, fmt.Sprint("q", i), float64(i*60))...)
	}
	posts = append(posts, s.posts...)
	// Texts, images and hashtag sequences over the same two days, with a
	// planted group, so the near-duplicate indexes must survive too.
	posts = mergeByTime(posts, nearStream(4, 1000, 300, 48*3600))
	cfg := Config{Retention: 12 * time.Hour, Signals: []post.Kind{
		post.KindRepost, post.KindLink, post.KindText, post.KindMedia, post.KindHashtagSeq,
	}}
	var want []string
	feed(t, mustNew(t, cfg), posts, 0, len(posts), &want)
	all := strings.Join(want, "")
	for _, status := range []string{post.StatusActive, post.StatusExpired} {
		if !strings.Contains(all, `"status":"`+status+`"`) {
			t.Fatalf("reference run has no %s cluster", status)
		}
	}
	r := rand.New(rand.NewPCG(42, 0))
	// One split in the middle of a planted copy-paste burst, so that the
	// near-duplicate indexes hold pending texts and images.
	midBurst := slices.IndexFunc(posts, func(p *post.Post) bool { return p.ID == "m2-10" })
	for _, split := range []int{detectEvery + 1, 1 + r.IntN(len(posts)-1), midBurst} {
		before := split / detectEvery // outputs produced before the split

		var got []string
		a := mustNew(t, cfg)
		feed(t, a, posts, 0, split, &got)
		if split == midBurst && a.Stats().NearActions < 10 {
			t.Fatalf("split %d: only %d texts and images pending", split, a.Stats().NearActions)
		}
		var snap bytes.Buffer
		if err := a.Snapshot(&snap); err != nil {
			t.Fatal(err)
		}
		b := mustNew(t, cfg)
		if err := b.Restore(bytes.NewReader(snap.Bytes())); err != nil {
			t.Fatalf("split %d: restore: %v", split, err)
		}
		// A restored engine snapshots to the same bytes.
		var again bytes.Buffer
		if err := b.Snapshot(&again); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(snap.Bytes(), again.Bytes()) {
			t.Errorf("split %d: snapshot of the restored engine differs", split)
		}
		feed(t, b, posts, split, len(posts), &got)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("split %d: output after restore differs from an uninterrupted run", split)
		}

		// Replaying the last posts before the split, as a consumer resuming
		// from an older offset does, changes nothing.
		c := mustNew(t, cfg)
		if err := c.Restore(bytes.NewReader(snap.Bytes())); err != nil {
			t.Fatal(err)
		}
		for _, p := range posts[max(0, split-500):split] {
			if c.Add(p) {
				t.Fatalf("split %d: replayed post %s accepted", split, p.Key())
			}
		}
		replayed := append([]string(nil), got[:before]...)
		feed(t, c, posts, split, len(posts), &replayed)
		if !reflect.DeepEqual(replayed, want) {
			t.Errorf("split %d: replay after restore changed the output", split)
		}
	}
}

func TestRestoreErrors(t *testing.T) {
	e := mustNew(t, Config{})
	for _, p := range genStream(8, []int{5}, 50, 500, 5).posts {
		e.Add(p)
	}
	var snap bytes.Buffer
	if err := e.Snapshot(&snap); err != nil {
		t.Fatal(err)
	}
	future := func() []byte {
		var b bytes.Buffer
		gob.NewEncoder(&b).Encode(snapHeader{Magic: snapshotMagic, Version: SnapshotVersion + 1})
		return b.Bytes()
	}
	older := func() []byte {
		var b bytes.Buffer
		gob.NewEncoder(&b).Encode(snapHeader{Magic: snapshotMagic, Version: oldestSnapshotVersion - 1})
		return b.Bytes()
	}
	foreign := func() []byte {
		var b bytes.Buffer
		gob.NewEncoder(&b).Encode(snapHeader{Magic: "something else", Version: 1})
		return b.Bytes()
	}
	tests := []struct {
		name  string
		cfg   Config
		data  []byte
		check func(error) bool
	}{
		{"other config", Config{Window: 30e9}, snap.Bytes(), func(err error) bool { return strings.Contains(err.Error(), "field Window") }},
		{"other text threshold", Config{TextThreshold: 0.8}, snap.Bytes(), func(err error) bool { return strings.Contains(err.Error(), "field TextThreshold") }},
		{"other media distance", Config{MediaMaxDistance: 4}, snap.Bytes(), func(err error) bool { return strings.Contains(err.Error(), "field MediaMaxDistance") }},
		{"newer version", Config{}, future(), func(err error) bool { return errors.Is(err, ErrSnapshotVersion) }},
		{"older version", Config{}, older(), func(err error) bool {
			return errors.Is(err, ErrSnapshotVersion) && strings.Contains(err.Error(), "version 1, this build reads versions 2 to 3")
		}},
		{"not a snapshot", Config{}, foreign(), func(err error) bool { return strings.Contains(err.Error(), "not a graph snapshot") }},
		{"garbage", Config{}, []byte("garbage"), func(err error) bool { return err != nil }},
		{"truncated", Config{}, snap.Bytes()[:snap.Len()/2], func(err error) bool { return err != nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := mustNew(t, tc.cfg)
			n.Add(rp("1", "a", "x", 0))
			n.Add(rp("2", "b", "x", 1))
			before := n.Edges(1)
			err := n.Restore(bytes.NewReader(tc.data))
			if err == nil || !tc.check(err) {
				t.Fatalf("got error %v", err)
			}
			if after := n.Edges(1); !reflect.DeepEqual(before, after) {
				t.Error("failed restore changed the engine")
			}
		})
	}
}
