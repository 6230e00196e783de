// Package scoring turns a detected cluster into judgements analysts can
// act on: how tightly its members act together, and how much risk it
// carries, each with the reasons in plain words. A bare number is never
// enough during an election: an analyst must be able to say why.
//
// This is the first scoring model: coordination strength from the graph
// itself (density, distinct shared objects per edge, synchrony) and risk
// from coordination, size and volume. Stance per candidate and account
// bot-likeness join it later (see the README's roadmap).
package scoring

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// Config holds the model's parameters.
type Config struct {
	// Window is the co-action window the graph used; synchrony is judged
	// against it. Default 60s.
	Window time.Duration
}

// Weights of the risk model, documented here because analysts ask. Each
// factor is in 0..1; risk = 100 × Σ weight × factor.
const (
	WeightCoordination = 0.5  // how tightly members act together
	WeightSize         = 0.3  // how many accounts the operation commands
	WeightVolume       = 0.2  // how many distinct objects it pushed
	sizeScale          = 15.0 // members at which the size factor reaches 1-1/e
	volumeScale        = 20.0 // distinct objects at which the volume factor reaches 1-1/e
)

// Score fills c.Scores from c's members and edges.
func Score(cfg Config, c *post.Cluster) {
	if cfg.Window <= 0 {
		cfg.Window = 60 * time.Second
	}
	n := len(c.Members)
	s := post.Scores{Stance: c.Scores.Stance}
	if n < 2 || len(c.Edges) == 0 {
		c.Scores = s
		return
	}
	possible := float64(n*(n-1)) / 2
	s.Density = math.Min(1, float64(len(c.Edges))/possible)
	var wsum, dsum float64
	for _, e := range c.Edges {
		wsum += float64(e.Weight)
		dsum += e.MeanDelta * float64(e.Weight)
	}
	s.MeanWeight = wsum / float64(len(c.Edges))
	meanDelta := dsum / wsum
	s.Synchrony = clamp01(1 - meanDelta/cfg.Window.Seconds())
	// Repetition saturates: sharing 10 distinct objects is already far
	// beyond chance for two accounts within a minute of each other.
	repetition := clamp01((s.MeanWeight - 1) / 9)
	s.Coordination = round3(0.4*s.Density + 0.3*repetition + 0.3*s.Synchrony)

	objects := 0
	for _, v := range c.Signals {
		objects += v
	}
	size := 1 - math.Exp(-float64(n)/sizeScale)
	volume := 1 - math.Exp(-float64(objects)/volumeScale)
	factors := []factor{
		{WeightCoordination * s.Coordination, fmt.Sprintf("members act together tightly (coordination %.2f: %.0f%% of member pairs linked, %.1f shared objects per link, %.0f s apart on average)", s.Coordination, 100*s.Density, s.MeanWeight, meanDelta)},
		{WeightSize * size, fmt.Sprintf("%d accounts take part", n)},
		{WeightVolume * volume, fmt.Sprintf("%d distinct objects pushed together (%s)", objects, describeSignals(c.Signals))},
	}
	risk := 0.0
	for _, f := range factors {
		risk += f.value
	}
	s.Risk = math.Round(1000*risk) / 10
	s.Density, s.MeanWeight, s.Synchrony = round3(s.Density), round3(s.MeanWeight), round3(s.Synchrony)
	sort.SliceStable(factors, func(i, j int) bool { return factors[i].value > factors[j].value })
	for _, f := range factors {
		s.Reasons = append(s.Reasons, f.reason)
	}
	c.Scores = s
}

type factor struct {
	value  float64
	reason string
}

func describeSignals(sig map[post.Kind]int) string {
	kinds := make([]string, 0, len(sig))
	for k := range sig {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	out := ""
	for i, k := range kinds {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%d by %s", sig[post.Kind(k)], k)
	}
	return out
}

func clamp01(x float64) float64 { return math.Max(0, math.Min(1, x)) }

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
