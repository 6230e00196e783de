package graph

import (
	"fmt"
	"math"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// Default values of Config. A zero field takes its default, so a caller
// sets only what it means to change and older config files keep working
// when fields are added.
const (
	DefaultWindow         = 60 * time.Second
	DefaultKeyCap         = 50
	DefaultMinWeight      = 3
	DefaultMinClusterSize = 3
	DefaultRetention      = 72 * time.Hour
	DefaultWeakRetention  = 6 * time.Hour
	DefaultLateness       = 5 * time.Minute
	DefaultMaxEvidence    = 5
)

// DefaultSignals are the co-action kinds paired when Config.Signals is
// empty. Reposts and links are the signals CooRTweet and the Coordination
// Network Toolkit validated on real campaigns; hashtags, domains and
// mentions are shared by crowds of unrelated accounts and need a higher
// MinWeight before they mean anything, so they are opt-in.
var DefaultSignals = []post.Kind{post.KindRepost, post.KindLink}

// Config tunes the engine. Every duration is in event (stream) time, never
// wall-clock time, so replaying a day of data gives the same graph whether
// it takes a second or a day.
type Config struct {
	// Window is the co-action window: two actions on the same object pair
	// when their times differ by at most Window. Default 60s, the window
	// used by CooRTweet and the Coordination Network Toolkit studies.
	Window time.Duration

	// KeyCap bounds how many recent actions of one object a new action
	// pairs with. Default 50. Without it a viral object costs pairs
	// quadratic in its sharers (facts.md: the top key alone gave 67% of
	// 1.15 billion pairs); coordinated groups act within seconds, so they
	// still pair with each other under the cap.
	KeyCap int

	// MinWeight is the number of distinct shared objects an edge needs to
	// take part in community detection. Default 3. One or two shared
	// objects happen by chance; repetition is the sign of coordination.
	MinWeight int

	// MinClusterSize is the smallest community reported as a cluster.
	// Default 3.
	MinClusterSize int

	// Retention is how long an edge of weight >= MinWeight lives after its
	// last co-action (relative to the latest event time seen). Default 72h:
	// long enough to follow a campaign over a weekend, short enough that a
	// dormant network's cluster expires.
	Retention time.Duration

	// WeakRetention is how long an edge below MinWeight lives after its last
	// co-action. Default 6h. Such edges are 99% of all edges (facts.md) and
	// nearly all are chance, so they cannot be kept for ever; but a pair
	// reaches MinWeight only if its co-actions come no more than
	// WeakRetention apart, so too short a value misses slow campaigns (on
	// the planted test, groups whose members join a third of campaigns
	// spread over two days lost most edges at 1h and none at 6h). Memory
	// is about the pairs of WeakRetention of stream: see BenchmarkAdd for
	// bytes per edge. Must not exceed Retention.
	WeakRetention time.Duration

	// Lateness is how far behind the latest event time an action may
	// arrive and still pair. Default 5m. Later posts are counted (see
	// Stats.Late) and dropped: their partners have left the buffers.
	Lateness time.Duration

	// Signals are the co-action kinds derived from posts (see Actions).
	// Default DefaultSignals.
	Signals []post.Kind

	// MaxEvidence is how many co-action samples each edge keeps. Default 5.
	// The earliest ones are kept, so the evidence of an edge does not
	// depend on the order its posts arrived in.
	MaxEvidence int

	// Level picks the Louvain level used for clusters: 0 (the default) is
	// the partition after the first local-moving phase, n > 0 the
	// partition after n aggregations, -1 the top level. facts.md: the top
	// level swallows small planted groups; the finest one keeps them apart
	// but can leave a sparse group in pieces, which Rejoin mends.
	Level int

	// Rejoin is the resolution, in edge weight per pair of members, of the
	// Constant Potts Model pass that merges the Louvain communities that
	// are pieces of one group: two parts merge when the weight between
	// them exceeds Rejoin times the product of their sizes. Unlike
	// modularity it does not depend on the size of the whole graph, so
	// small groups linked by one chance edge stay apart. Default
	// MinWeight/12 (0.25): parts merge when, on average, one pair of
	// members in twelve is linked by a MinWeight edge. Negative disables
	// the pass. On 2,000 planted groups of 10-30 accounts at 30% edge
	// density with 20,000 noise edges, it raised recall from 0.84 to 0.99
	// at purity 0.998; the top Louvain level had purity 0.2.
	Rejoin float64
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.KeyCap == 0 {
		c.KeyCap = DefaultKeyCap
	}
	if c.MinWeight == 0 {
		c.MinWeight = DefaultMinWeight
	}
	if c.MinClusterSize == 0 {
		c.MinClusterSize = DefaultMinClusterSize
	}
	if c.Retention == 0 {
		c.Retention = DefaultRetention
	}
	if c.WeakRetention == 0 {
		c.WeakRetention = min(DefaultWeakRetention, c.Retention)
	}
	if c.Lateness == 0 {
		c.Lateness = DefaultLateness
	}
	if len(c.Signals) == 0 {
		c.Signals = append([]post.Kind(nil), DefaultSignals...)
	} else {
		c.Signals = append([]post.Kind(nil), c.Signals...)
	}
	if c.MaxEvidence == 0 {
		c.MaxEvidence = DefaultMaxEvidence
	}
	if c.Rejoin == 0 {
		c.Rejoin = float64(c.MinWeight) / 12
	}
	return c
}

// ConfigError names the Config field that is invalid, so a bad value in a
// config file is reported by the name an operator can search for.
type ConfigError struct {
	Field  string
	Reason string
}

func (e *ConfigError) Error() string { return fmt.Sprintf("graph config: %s: %s", e.Field, e.Reason) }

// Validate reports the first invalid field, after defaults are applied.
func (c Config) Validate() error {
	c = c.withDefaults()
	bad := func(field, format string, args ...any) error {
		return &ConfigError{Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case c.Window < 0:
		return bad("Window", "negative (%v)", c.Window)
	case c.KeyCap < 0:
		return bad("KeyCap", "negative (%d)", c.KeyCap)
	case c.MinWeight < 0:
		return bad("MinWeight", "negative (%d)", c.MinWeight)
	case c.MinClusterSize < 2:
		return bad("MinClusterSize", "%d, need at least 2", c.MinClusterSize)
	case c.Retention < c.Window:
		return bad("Retention", "%v is shorter than Window %v", c.Retention, c.Window)
	case c.WeakRetention < c.Window:
		return bad("WeakRetention", "%v is shorter than Window %v", c.WeakRetention, c.Window)
	case c.WeakRetention > c.Retention:
		return bad("WeakRetention", "%v is longer than Retention %v", c.WeakRetention, c.Retention)
	case c.Lateness < 0:
		return bad("Lateness", "negative (%v)", c.Lateness)
	case c.MaxEvidence < 0:
		return bad("MaxEvidence", "negative (%d)", c.MaxEvidence)
	case math.IsNaN(c.Rejoin) || math.IsInf(c.Rejoin, 0):
		return bad("Rejoin", "not a finite number")
	case c.Level < -1:
		return bad("Level", "%d, need -1 (top), 0 (finest) or a positive level", c.Level)
	}
	seen := map[post.Kind]bool{}
	for i, k := range c.Signals {
		if _, ok := kindIndex(k); !ok {
			return bad(fmt.Sprintf("Signals[%d]", i), "unknown kind %q", k)
		}
		if seen[k] {
			return bad(fmt.Sprintf("Signals[%d]", i), "kind %q listed twice", k)
		}
		seen[k] = true
	}
	return nil
}
