package brief

import (
	"context"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store"
)

// TestScheduler: a day is written once final (stream time Grace past its
// end); the day in progress only when the input is idle; nothing is
// re-written while nothing changes; and the state survives a restart
// (a new Scheduler on the same store).
func TestScheduler(t *testing.T) {
	s := fixture(t)
	ctx := t.Context()
	type event struct {
		date  string
		final bool
	}
	var got []event
	var announced []string
	newSched := func(idle bool) *Scheduler {
		return &Scheduler{Store: s, Dir: t.TempDir(), Grace: time.Hour, Backfill: 3,
			Idle:    func() bool { return idle },
			Written: func(d string, f bool) { got = append(got, event{d, f}) },
			Announce: func(_ context.Context, date, _, _ string, final bool) error {
				announced = append(announced, date)
				return nil
			}}
	}
	check := func(sc *Scheduler, idle bool) {
		t.Helper()
		st, err := sc.load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		newest, version, err := sc.version(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := sc.Check(ctx, st, newest, version, idle); err != nil {
			t.Fatal(err)
		}
	}
	// Stream time is the fixture's newest post, 2017-05-05 23:xx: the 4th
	// is final (it has a post), the 5th is in progress.
	check(newSched(false), false)
	if len(got) != 1 || got[0] != (event{"2017-05-04", true}) {
		t.Fatalf("busy check wrote %v, want the final 2017-05-04 only", got)
	}
	check(newSched(false), false)
	if len(got) != 1 {
		t.Fatalf("second busy check wrote again: %v", got)
	}
	check(newSched(true), true)
	if len(got) != 2 || got[1] != (event{"2017-05-05", false}) {
		t.Fatalf("idle check wrote %v, want the provisional 5th only (the 4th is unchanged)", got)
	}
	check(newSched(true), true)
	if len(got) != 2 {
		t.Fatalf("idle check with nothing new wrote again: %v", got)
	}
	// A post past the 5th's end plus grace makes it final.
	if err := s.PutPosts(ctx, []post.Post{{Platform: post.PlatformTwitter, ID: "9999", Author: "late", Time: day.Add(25*time.Hour + time.Minute), Text: "x"}}); err != nil {
		t.Fatal(err)
	}
	check(newSched(false), false)
	if len(got) != 3 || got[2] != (event{"2017-05-05", true}) {
		t.Fatalf("after the day closed: %v, want the final 2017-05-05", got)
	}
	b, err := s.GetBriefing(ctx, "2017-05-05")
	if err != nil || b.Summary == "" || b.HTML == "" {
		t.Fatalf("stored briefing: %+v, %v", b.Summarize(), err)
	}
	list, err := s.ListBriefings(ctx, store.BriefingQuery{})
	if err != nil || len(list) != 2 {
		t.Errorf("stored briefings %v, %v", list, err)
	}
	if len(announced) != 3 {
		t.Errorf("announced %v", announced)
	}
}
