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

	// DefaultTextThreshold is the default Config.TextThreshold.
	DefaultTextThreshold = 0.7
	// DefaultTextMinWords is the default Config.TextMinWords.
	DefaultTextMinWords = 5
	// DefaultMediaMaxDistance is the default Config.MediaMaxDistance.
	DefaultMediaMaxDistance = 6
	// DefaultHashtagSeqMin is the default Config.HashtagSeqMin.
	DefaultHashtagSeqMin = 2
	// DefaultIDOverlap is the default Config.IDOverlap.
	DefaultIDOverlap = 0.3
	// DefaultMinCohesion is the default Config.MinCohesion.
	DefaultMinCohesion = 0.2
)

// Config.Algorithm values.
const (
	AlgorithmLouvain    = "louvain"
	AlgorithmLeiden     = "leiden"
	AlgorithmComponents = "components"
)

// DefaultSignals are the co-action kinds paired when Config.Signals is
// empty. Reposts, links and replies are the signals CooRTweet and the
// Coordination Network Toolkit validated on real campaigns (co_retweet,
// co_link, co_reply). Replies are on because reply brigades pair on
// nothing else, and on the evaluation scenarios they cost no precision
// and no false alert (docs/evaluation.md, issue 10). Hashtags, domains
// and mentions are shared by crowds of unrelated accounts and need a
// higher MinWeight before they mean anything, so they are opt-in.
var DefaultSignals = []post.Kind{post.KindRepost, post.KindLink, post.KindReply}

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

	// Algorithm picks how Detect groups the accounts of the edges that
	// pass MinWeight and the enabled significance filters:
	//
	//   - "louvain" (the default): Louvain at Level, pieces rejoined by
	//     the Constant Potts Model at Rejoin, then split into connected
	//     parts.
	//   - "leiden": Leiden (Traag, Waltman and van Eck 2019) on the
	//     Constant Potts Model at resolution Rejoin, or on modularity when
	//     Rejoin is negative. Its refinement step guarantees connected
	//     communities, and CPM has no resolution limit, so small tight
	//     groups are not absorbed by their neighbours. Deterministic: its
	//     random choices come from a fixed seed.
	//   - "components": the connected components, no community detection:
	//     the plainest grouping to explain ("linked by a chain of edges of
	//     weight >= MinWeight"), but one chance edge joins two groups.
	//
	// When edge weights are adjusted (DiscountPopular, HyperactiveAt) the
	// Rejoin resolution is scaled by total adjusted over total raw weight
	// of the detection graph, so it keeps its meaning in raw-weight units.
	Algorithm string

	// DiscountPopular, when true, weighs each object an edge shares by
	// log(3)/log(1+c), c being the number of accounts with a live
	// co-action on it: 1 for an object only the pair co-shared, 0.36 for
	// one 20 accounts co-shared, 0.16 for 1,000 (see significance.go).
	// The result, with HyperactiveAt, is the edge's adjusted weight,
	// shown in Edge.Extra["adjusted_weight"] and used for community
	// detection; Edge.Weight stays the raw count of distinct objects and
	// MinWeight still applies to it. Default false, the CooRTweet weight.
	// It costs a pass over every live edge per Detect.
	DiscountPopular bool

	// HyperactiveAt, when positive, is the activity (distinct objects an
	// account co-shared with anyone in the live graph) above which an
	// account's edges are scaled by sqrt(HyperactiveAt/activity), into
	// the adjusted weight (see DiscountPopular). Accounts acting all day
	// co-share with everyone by chance. Default 0: off.
	HyperactiveAt int

	// BackboneAlpha, when positive, keeps only the edges that the
	// disparity filter (Serrano, Boguñá and Vespignani 2009) finds
	// significant at this level for at least one endpoint: alpha =
	// (1 - w/s)^(k-1) <= BackboneAlpha, with s and k the endpoint's
	// strength and degree in the live graph of every edge (see
	// significance.go). The alpha is shown in
	// Edge.Extra["disparity_alpha"]; 1 shows it without filtering.
	// Default 0: off. It applies besides MinWeight, not instead of it;
	// the filter favours edges that stand out among an account's edges,
	// so it can drop the uniform edges of a dense group.
	BackboneAlpha float64

	// NullModelAlpha, when positive, keeps only the edges whose
	// hypergeometric p-value of chance co-sharing, given both accounts'
	// activity and the number of objects in the live graph, is at most
	// this level (see significance.go). The p-value is shown in
	// Edge.Extra["p_value"]; 1 shows it without filtering. Default 0:
	// off. Not corrected for multiple tests.
	NullModelAlpha float64

	// TextThreshold is the estimated Jaccard similarity, over character
	// 5-shingles of the normalised texts, at which two texts are
	// near-duplicates for the text signal (see neardup.go). Default 0.7.
	// Measured on 25-word French tweets: a copy with one word replaced is
	// at 0.84 from its original, two copies that replaced different words
	// at 0.74 from each other, different texts on the same topic at 0.2
	// to 0.35. The estimate comes from 128 MinHash slots (standard error
	// 0.04), so pairs within about 0.05 of the threshold may fall either
	// side. Must be in (0, 1]; 1 pairs texts with equal signatures only.
	TextThreshold float64

	// TextMinWords is the fewest words (after normalisation) a text needs
	// to be a text action. Default 5: short texts ("thanks!", "so true")
	// are posted alike by strangers all day.
	TextMinWords int

	// MediaMaxDistance is the Hamming distance in bits within which two
	// 64-bit perceptual media hashes (16 hex digits) are the same image
	// for the media signal; other media hashes match exactly (see
	// imagehash.go). Default 6: re-encoding, resizing and light
	// watermarks move a pHash by a few bits, while two random 64-bit
	// values are within 6 bits once in 2*10^11 pairs. Negative means exact
	// matching only (zero selects the default); at most MaxMediaDistance.
	MediaMaxDistance int

	// IDOverlap is the member overlap a newly detected cluster needs with
	// a previously emitted one to take its ID (see Engine.Detect). The
	// overlap is the overlap coefficient |A∩B| / min(|A|, |B|): 1 when
	// one cluster holds the other, so a group that grows from its first
	// 3 detected members to 30 keeps its ID (their Jaccard would be 0.1).
	// Default 0.3: a cluster that kept under a third of the smaller
	// side's members is another network, even if it shares a few
	// accounts (hubs that co-share with everyone). Must be in (0, 1]. It
	// shapes only IDs, not which clusters are found.
	IDOverlap float64

	// HashtagSeqMin is the fewest hashtags a post needs for a
	// hashtag_seq action. Default 2 (one hashtag is the hashtag signal).
	// Raise it when crowds share a common pair of hashtags: a run of
	// four or five in one order is rarely typed alike by strangers.
	HashtagSeqMin int

	// MinCohesion is the smallest cohesion a community needs to be
	// reported as a cluster: the mean, over the distinct objects on its
	// edges, of the share of its members that co-shared the object (see
	// cohesion.go). A network acts together: on the planted scenarios
	// each pushed object is co-shared by 46-93% of the cluster found
	// (mean per cluster). Accounts that each pair with a few others by
	// routine instead form chains: news aggregators polling the same
	// outlets co-share every article with the outlet and one or two other
	// aggregators, hundreds of times, and the 27 of them made one cluster
	// whose objects each involved 10-13% of it. The popularity discount
	// and the null model cannot see this, since each such edge is
	// genuinely heavy and its objects are not popular. Default 0.2;
	// negative disables the filter. Cohesion is at least 2/size, so
	// clusters of up to 2/MinCohesion members (10 at the default) always
	// pass.
	MinCohesion float64
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
	if c.Algorithm == "" {
		c.Algorithm = AlgorithmLouvain
	}
	if c.TextThreshold == 0 {
		c.TextThreshold = DefaultTextThreshold
	}
	if c.TextMinWords == 0 {
		c.TextMinWords = DefaultTextMinWords
	}
	if c.MediaMaxDistance == 0 {
		c.MediaMaxDistance = DefaultMediaMaxDistance
	}
	if c.IDOverlap == 0 {
		c.IDOverlap = DefaultIDOverlap
	}
	if c.HashtagSeqMin == 0 {
		c.HashtagSeqMin = DefaultHashtagSeqMin
	}
	if c.MinCohesion == 0 {
		c.MinCohesion = DefaultMinCohesion
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
	case c.Algorithm != AlgorithmLouvain && c.Algorithm != AlgorithmLeiden && c.Algorithm != AlgorithmComponents:
		return bad("Algorithm", "%q, need %q, %q or %q", c.Algorithm, AlgorithmLouvain, AlgorithmLeiden, AlgorithmComponents)
	case c.HyperactiveAt < 0:
		return bad("HyperactiveAt", "negative (%d)", c.HyperactiveAt)
	case !(c.BackboneAlpha >= 0 && c.BackboneAlpha <= 1):
		return bad("BackboneAlpha", "%v, need a level in [0, 1] (0: off)", c.BackboneAlpha)
	case !(c.NullModelAlpha >= 0 && c.NullModelAlpha <= 1):
		return bad("NullModelAlpha", "%v, need a level in [0, 1] (0: off)", c.NullModelAlpha)
	case !(c.TextThreshold > 0 && c.TextThreshold <= 1):
		return bad("TextThreshold", "%v, need a similarity in (0, 1]", c.TextThreshold)
	case c.TextMinWords < 0:
		return bad("TextMinWords", "negative (%d)", c.TextMinWords)
	case c.MediaMaxDistance > MaxMediaDistance:
		return bad("MediaMaxDistance", "%d bits, at most %d", c.MediaMaxDistance, MaxMediaDistance)
	case c.HashtagSeqMin < 2:
		return bad("HashtagSeqMin", "%d, need at least 2", c.HashtagSeqMin)
	case math.IsNaN(c.MinCohesion) || c.MinCohesion > 1:
		return bad("MinCohesion", "%v, need a share in (0, 1], or negative to disable", c.MinCohesion)
	case !(c.IDOverlap > 0 && c.IDOverlap <= 1):
		return bad("IDOverlap", "%v, need an overlap in (0, 1]", c.IDOverlap)
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
