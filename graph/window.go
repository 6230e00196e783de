package graph

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// CooRnet's parameters for estimating the co-action window (Giglietto,
// Righetti, Rossi and Marino, CooRnet's estimate_coord_interval, q = 0.1
// and p = 0.5).
const (
	// WindowFastShare is q: the share of objects, those re-shared
	// fastest, whose behaviour sets the window.
	WindowFastShare = 0.1
	// WindowShareFraction is p: the fraction of an object's shares whose
	// arrival is timed, and the quantile taken over the fast objects.
	WindowShareFraction = 0.5
)

// WindowStats explains an EstimateWindow result, so an operator can judge
// it before putting it in Config.Window.
type WindowStats struct {
	Actions int // distinct actions read (an action repeated is read once)
	Objects int // distinct objects (kind and key)
	Shared  int // objects with at least two actions: the candidates
	// SecondShareCutoff is the q-quantile of the time from first to
	// second action over the shared objects: the objects at or under it
	// are the fast ones.
	SecondShareCutoff time.Duration
	Fast              int // fast objects
	// Time for the fast objects to gather more than p of their actions,
	// summarised as R's summary() would: minimum, quartiles, mean, maximum.
	Min, Q1, Median, Mean, Q3, Max time.Duration
	// Estimate is the p-quantile of those times (the median for p = 0.5),
	// raised to 1 s when it is 0, as CooRnet does: the window.
	Estimate time.Duration
}

// EstimateWindow estimates the co-action window from the data, by
// CooRnet's method (estimate_coord_interval): take the objects shared at
// least twice; keep the q = 10% whose second share came fastest after the
// first (time to second share at or under its 10% quantile); for each of
// them, time how long it took to gather more than p = 50% of its shares;
// the window is the median of those times. The idea is that coordinated
// sharing is what makes objects spread unusually fast, so the pace of
// the fastest-spreading objects says how close in time coordinated
// shares fall, rather than a fixed 60 s chosen for another platform or
// year. Quantiles are R's default (type 7), so results can be checked
// against CooRnet's; a 0 s estimate becomes 1 s, as in CooRnet.
//
// Objects are identified by Kind and Key, as the engine pairs them; each
// action counts as one share, an identical action (same platform, post,
// kind and key) once. With no object shared twice it returns 0: there is
// nothing to estimate from, and the caller keeps its window.
func EstimateWindow(actions []post.Action) (time.Duration, WindowStats) {
	return estimateWindow(actions, WindowFastShare, WindowShareFraction)
}

func estimateWindow(actions []post.Action, q, p float64) (time.Duration, WindowStats) {
	type share struct {
		kind     post.Kind
		key      string
		t        int64
		platform post.Platform
		post     string
	}
	shares := make([]share, len(actions))
	for i, a := range actions {
		shares[i] = share{a.Kind, a.Key, a.Time.UnixNano(), a.Platform, a.Post}
	}
	// By object then time: each object's shares become one sorted run.
	slices.SortFunc(shares, func(x, y share) int {
		return cmp.Or(cmp.Compare(x.kind, y.kind), cmp.Compare(x.key, y.key), cmp.Compare(x.t, y.t),
			cmp.Compare(x.platform, y.platform), cmp.Compare(x.post, y.post))
	})
	shares = slices.CompactFunc(shares, func(x, y share) bool { return x == y })

	var st WindowStats
	st.Actions = len(shares)
	type object struct {
		second, half float64 // seconds from the first share
	}
	var objs []object
	for lo := 0; lo < len(shares); {
		hi := lo + 1
		for hi < len(shares) && shares[hi].kind == shares[lo].kind && shares[hi].key == shares[lo].key {
			hi++
		}
		st.Objects++
		if n := hi - lo; n >= 2 {
			// CooRnet ranks shares by time (ties by order, which cannot
			// change the times) and keeps those with rank/n > p: the first
			// of them is rank floor(p*n)+1.
			// The comparison is R's, in floating point.
			r := max(1, int(p*float64(n)))
			for r <= n && float64(r)/float64(n) <= p {
				r++
			}
			for r > 1 && float64(r-1)/float64(n) > p {
				r--
			}
			first := shares[lo].t
			o := object{second: float64(shares[lo+1].t-first) / 1e9, half: math.NaN()}
			if r <= n {
				o.half = float64(shares[lo+r-1].t-first) / 1e9
			}
			objs = append(objs, o)
		}
		lo = hi
	}
	st.Shared = len(objs)
	if len(objs) == 0 {
		return 0, st
	}
	seconds := make([]float64, len(objs))
	for i, o := range objs {
		seconds[i] = o.second
	}
	slices.Sort(seconds)
	cut := quantile7(seconds, q)
	st.SecondShareCutoff = secondsToDuration(cut)
	var half []float64
	for _, o := range objs {
		if o.second <= cut {
			st.Fast++
			if !math.IsNaN(o.half) { // NaN only when p >= 1: no share is past it
				half = append(half, o.half)
			}
		}
	}
	if len(half) == 0 {
		return 0, st
	}
	slices.Sort(half)
	var sum float64
	for _, h := range half {
		sum += h
	}
	st.Min, st.Max = secondsToDuration(half[0]), secondsToDuration(half[len(half)-1])
	st.Q1 = secondsToDuration(quantile7(half, 0.25))
	st.Median = secondsToDuration(quantile7(half, 0.5))
	st.Q3 = secondsToDuration(quantile7(half, 0.75))
	st.Mean = secondsToDuration(sum / float64(len(half)))
	st.Estimate = secondsToDuration(quantile7(half, p))
	if st.Estimate == 0 {
		st.Estimate = time.Second
	}
	return st.Estimate, st
}

// quantile7 is R's quantile(x, q) with the default type 7, of sorted
// values: linear interpolation between the order statistics at
// 1 + (n-1)q, written as R's quantile.default is so that results compare
// equal to R's to the last bit (CooRTweet's threshold is compared with
// ">", so one ulp changes an edge). NaN for no values. The one type-7
// helper of the package: the window estimator and CooRTweet both use it.
func quantile7(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	index := 1 + float64(n-1)*q
	lo := math.Floor(index)
	hi := math.Ceil(index)
	v := sorted[int(lo)-1]
	if index > lo && sorted[int(hi)-1] != v {
		h := index - lo
		v = (1-h)*v + h*sorted[int(hi)-1]
	}
	return v
}

func secondsToDuration(s float64) time.Duration {
	return time.Duration(math.Round(s * 1e9))
}
