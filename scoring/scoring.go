// Package scoring turns a detected cluster into judgements analysts can
// act on, each with its reasons in plain words, because a bare number is
// never enough during an election: an analyst must be able to say why.
//
//   - Stance (StanceModel): whether a post favours or smears each
//     candidate of the election being watched (package election), from
//     French and English lexicons with negation, and from hashtags: the
//     election's seed hashtags, extended by label propagation over the
//     hashtag co-occurrence graph.
//   - Bot-likeness (Accounts): 0-1 per account from activity (rate,
//     burstiness, regularity, reposts, night posting) and profile (age,
//     default profile, digits in the handle, follower ratio, batch
//     creation), each feature's contribution reported.
//   - Cluster risk (Scorer.ScoreCluster): 0-100 from coordination, size
//     and reach, volume, bot share, stance concentration, growth and
//     novelty, with the top factors as reasons.
//   - Narrative trends (Trends): hashtags, links and domains that
//     coordinated clusters push more now than before.
//
// The README's "Scores" section documents every feature and weight.
package scoring

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// Config holds the model's parameters. Zero fields take their defaults.
type Config struct {
	// Window is the co-action window the graph used; synchrony is judged
	// against it. Default 60s.
	Window time.Duration
	// Election is the election file; empty uses the embedded 2017 French
	// presidential election (config key scoring.election).
	Election string
	// MaxAccounts bounds the per-account state. Default 1,000,000.
	MaxAccounts int
	// AccountRetention: when the account state is full, accounts silent
	// this long (stream time) make room. Default 72h.
	AccountRetention time.Duration
	// MaxTags bounds the hashtag co-occurrence graph. Default 50,000.
	MaxTags int
	// GrowthWindow: growth compares a cluster's size with its size this
	// long before. Default 6h.
	GrowthWindow time.Duration
	// NoveltyWindow: novelty falls from 1 to 0 over this age of a cluster
	// (since its first co-action). Default 24h.
	NoveltyWindow time.Duration
}

func (c Config) withDefaults() Config {
	if c.Window <= 0 {
		c.Window = 60 * time.Second
	}
	if c.MaxAccounts <= 0 {
		c.MaxAccounts = 1_000_000
	}
	if c.AccountRetention <= 0 {
		c.AccountRetention = 72 * time.Hour
	}
	if c.MaxTags <= 0 {
		c.MaxTags = 50_000
	}
	if c.GrowthWindow <= 0 {
		c.GrowthWindow = 6 * time.Hour
	}
	if c.NoveltyWindow <= 0 {
		c.NoveltyWindow = 24 * time.Hour
	}
	return c
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

func clamp01(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return math.Max(0, math.Min(1, x))
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
