package scenario

import (
	"math"
	"time"
)

// parisOffset is the scenario's local clock: Paris summer time. The
// rhythm below is approximate, so a fixed offset is enough and keeps the
// output independent of the machine's time zone database.
const parisOffset = 2 * time.Hour

// hourly is the relative activity of French Twitter by hour of the day in
// Paris: quiet from 2 to 6, a lunch bump, a peak in the evening news and
// prime time hours.
var hourly = [24]float64{0.45, 0.25, 0.13, 0.08, 0.07, 0.1, 0.25, 0.55, 0.8, 0.9, 0.95, 1.0, 1.1, 1.05, 0.95, 0.9, 0.9, 0.95, 1.05, 1.3, 1.5, 1.55, 1.3, 0.8}

func rhythm(ms int64) float64 {
	local := (ms + parisOffset.Milliseconds()) % (24 * 3600_000)
	h := float64(local) / 3600_000
	i := int(h)
	f := h - float64(i)
	return hourly[i]*(1-f) + hourly[(i+1)%24]*f
}

// boost is the extra activity around the race's events: the debate
// evening and the night of the leak.
func boost(ms int64) float64 {
	switch d, l := debateStart.UnixMilli(), leaksDump.UnixMilli(); {
	case ms >= d && ms < debateEnd.UnixMilli():
		return 2.3
	case ms >= debateEnd.UnixMilli() && ms < d+4*3600_000:
		return 1.6
	case ms >= l+10*60_000 && ms < l+5*3600_000:
		return 1.4
	}
	return 1
}

// profile is a piecewise-constant activity intensity over the scenario,
// one step per minute, from which post times are drawn.
type profile struct {
	start int64
	w     []float64 // weight of each minute
	cum   []float64 // cumulative weight at the end of each minute
	day   float64   // weight of an ordinary day, to turn rates into counts
}

func newProfile(start, end int64, weight func(ms int64) float64, base func(ms int64) float64) *profile {
	n := int((end - start + 59_999) / 60_000)
	p := &profile{start: start, w: make([]float64, n), cum: make([]float64, n)}
	s := 0.0
	for i := range n {
		p.w[i] = weight(start + int64(i)*60_000 + 30_000)
		s += p.w[i]
		p.cum[i] = s
	}
	for m := range 1440 {
		p.day += base(int64(m)*60_000 + 30_000)
	}
	return p
}

// cumAt returns the cumulative weight at ms, clamped to the scenario.
func (p *profile) cumAt(ms int64) float64 {
	if ms <= p.start {
		return 0
	}
	i := int((ms - p.start) / 60_000)
	if i >= len(p.cum) {
		return p.cum[len(p.cum)-1]
	}
	prev := 0.0
	if i > 0 {
		prev = p.cum[i-1]
	}
	return prev + p.w[i]*float64((ms-p.start)%60_000)/60_000
}

// days is the number of ordinary days' worth of activity in [from, to).
func (p *profile) days(from, to int64) float64 { return (p.cumAt(to) - p.cumAt(from)) / p.day }

// sample draws a time in [from, to) with density proportional to the
// profile.
func (p *profile) sample(r *rng, from, to int64) int64 {
	a, b := p.cumAt(from), p.cumAt(to)
	if b <= a {
		return from
	}
	x := a + r.float()*(b-a)
	lo, hi := 0, len(p.cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if p.cum[m] > x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	prev := 0.0
	if lo > 0 {
		prev = p.cum[lo-1]
	}
	f := 0.0
	if p.w[lo] > 0 {
		f = (x - prev) / p.w[lo]
	}
	ms := p.start + int64(lo)*60_000 + int64(math.Min(f, 0.99999)*60_000)
	return min(max(ms, from), to-1)
}

func timeOf(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
