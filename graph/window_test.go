package graph

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// shares returns one repost action per time (seconds after t0) of object
// key, by accounts named after the key and the index.
func shares(key string, secs ...float64) []post.Action {
	var out []post.Action
	for i, s := range secs {
		out = append(out, post.Action{
			Platform: post.PlatformTwitter, Account: fmt.Sprint(key, "-", i), Kind: post.KindRepost,
			Key: key, Time: t0.Add(time.Duration(s * float64(time.Second))), Post: fmt.Sprint(key, "/", i),
		})
	}
	return out
}

func TestEstimateWindow(t *testing.T) {
	// Worked by hand. Per object: time to the second share, and time to
	// the first share ranked above half (rank/n > 0.5):
	//   a: 0 10 20 30     second 10,  rank 3 of 4 at 20
	//   b: 0 5            second 5,   rank 2 of 2 at 5
	//   c: 0 100 101      second 100, rank 2 of 3 at 100
	//   d: 0 1 50 60 70   second 1,   rank 3 of 5 at 50
	//   e: 0              shared once: not a candidate
	// Seconds sorted: 1 5 10 100. Type-7 quantile q=0.1: 1 + 0.3*(5-1) =
	// 2.2, so only d is fast, and the window is 50 s. With q = 0.5: 7.5,
	// so b and d, and the median of 5 and 50 is 27.5 s.
	var hand []post.Action
	hand = append(hand, shares("a", 30, 0, 20, 10)...) // order must not matter
	hand = append(hand, shares("b", 0, 5)...)
	hand = append(hand, shares("c", 0, 100, 101)...)
	hand = append(hand, shares("d", 0, 1, 50, 60, 70)...)
	hand = append(hand, shares("e", 0)...)

	// Coordinated objects spread one share every 3 s to 10 accounts
	// (more than half reached at the 6th share, 15 s); organic objects get
	// their second share after 10 to 60 minutes. The coordinated fifth of
	// the objects holds the fastest 10%, so the window is 15 s.
	var synth []post.Action
	for i := range 100 {
		m := 10 + i%51
		synth = append(synth, shares("org"+strconv.Itoa(i), 0, float64(m*60), float64(m*90), float64(m*200))...)
	}
	for i := range 20 {
		synth = append(synth, shares("coord"+strconv.Itoa(i), 0, 3, 6, 9, 12, 15, 18, 21, 24, 27)...)
	}

	for _, tc := range []struct {
		name    string
		actions []post.Action
		q       float64
		want    time.Duration
		fast    int
	}{
		{"empty", nil, 0.1, 0, 0},
		{"shared once", shares("x", 0), 0.1, 0, 0},
		{"hand q=0.1", hand, 0.1, 50 * time.Second, 1},
		{"hand q=0.5", hand, 0.5, 27500 * time.Millisecond, 2},
		{"simultaneous shares give 1 s", shares("x", 0, 0, 0), 0.1, time.Second, 1},
		{"repeated action read once", append(shares("x", 0, 8), shares("x", 0, 8)...), 0.1, 8 * time.Second, 1},
		{"synthetic", synth, 0.1, 15 * time.Second, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, st := estimateWindow(tc.actions, tc.q, 0.5)
			if got != tc.want || st.Estimate != got || st.Fast != tc.fast {
				t.Errorf("window %v (stats %+v), want %v with %d fast objects", got, st, tc.want, tc.fast)
			}
		})
	}
	if got, _ := EstimateWindow(hand); got != 50*time.Second {
		t.Errorf("EstimateWindow(hand) = %v, want 50s", got)
	}
}

// TestEstimateWindowRussian reports the window CooRnet's method gives on
// CooRTweet's Russian retweet data (objects: the retweeted tweets).
func TestEstimateWindowRussian(t *testing.T) {
	rows := readCSV(t, russianTweets)
	actions := make([]post.Action, 0, len(rows))
	for i, r := range rows {
		ts, err := strconv.ParseInt(r["timestamp_share"], 10, 64)
		if err != nil {
			t.Fatalf("row %d: %v", i+2, err)
		}
		actions = append(actions, post.Action{
			Platform: post.PlatformTwitter, Account: r["account_id"], Kind: post.KindRepost,
			Key: r["object_id"], Time: time.Unix(ts, 0).UTC(), Post: r["content_id"],
		})
	}
	w, st := EstimateWindow(actions)
	t.Logf("estimated window on %s: %v", russianTweets, w)
	t.Logf("%d actions, %d objects, %d shared twice or more; fast: %d with second share within %v; time to half of shares: min %v, Q1 %v, median %v, mean %v, Q3 %v, max %v",
		st.Actions, st.Objects, st.Shared, st.Fast, st.SecondShareCutoff, st.Min, st.Q1, st.Median, st.Mean, st.Q3, st.Max)
	if w <= 0 || st.Fast == 0 || st.Fast > st.Shared {
		t.Errorf("window %v from %+v", w, st)
	}
}
