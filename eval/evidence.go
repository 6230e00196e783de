package eval

import (
	"slices"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/scenario"
)

// Evidence finds, for each planted network, the stream time at which a
// co-action detector first *could* see it: the moment MinSize of its
// members are connected by co-action edges of MinWeight distinct shared
// objects (within Window of each other). Before that no detector working
// on co-action edges at that threshold can report a cluster of it, so
// time to detection measured from the network's first post mixes two
// things: how slowly the network reveals itself (its burst spacing, which
// the scenario sets) and how late the detector reacts. Reaction time,
// detection minus evidence, is the detector's part alone.
//
// Only members' posts are counted, and only pairs within one network:
// the question is when the network's own trace suffices, not whether
// organic noise hides it. Feed posts in stream order with Add.
type Evidence struct {
	window    time.Duration
	minWeight int
	minSize   int
	parent    map[string]string // union-find over members joined at MinWeight
	compSize  map[string]int
	signals   map[post.Kind]bool
	net       map[string]int // member key -> network index
	size      []int
	recent    map[string][]act // object key -> recent members' acts
	shared    map[[2]string]map[string]bool
	at        []time.Time // per network: when a component reached MinSize
}

type act struct {
	who string
	at  time.Time
}

// NewEvidence counts co-actions on signals (repost, link and reply are
// understood; others are ignored) with the graph engine's window, minimum
// edge weight and minimum cluster size.
func NewEvidence(truth scenario.Truth, window time.Duration, minWeight, minSize int, signals []post.Kind) *Evidence {
	e := &Evidence{window: window, minWeight: max(minWeight, 1), minSize: max(minSize, 2), signals: map[post.Kind]bool{},
		net: map[string]int{}, recent: map[string][]act{}, shared: map[[2]string]map[string]bool{},
		parent: map[string]string{}, compSize: map[string]int{}, at: make([]time.Time, len(truth.Networks))}
	for _, s := range signals {
		e.signals[s] = true
	}
	for i, n := range truth.Networks {
		e.size = append(e.size, len(n.Members))
		for _, m := range n.Members {
			if _, ok := e.net[m]; !ok {
				e.net[m] = i
			}
		}
	}
	return e
}

// Add counts one post; posts must come in non-decreasing time order.
func (e *Evidence) Add(p *post.Post) {
	who := string(p.Platform) + ":" + p.Author
	k, ok := e.net[who]
	if !ok {
		return
	}
	plat := string(p.Platform) + ":"
	var keys []string
	if e.signals[post.KindRepost] && p.RepostOf != "" {
		keys = append(keys, "r"+plat+p.RepostOf)
	}
	if e.signals[post.KindReply] && p.ReplyTo != "" {
		keys = append(keys, "p"+plat+p.ReplyTo)
	}
	if e.signals[post.KindLink] {
		for _, u := range p.URLs {
			keys = append(keys, "u"+u)
		}
	}
	for _, key := range keys {
		acts := e.recent[key]
		// Drop acts older than the window: they can pair with nothing
		// that comes later.
		drop := 0
		for drop < len(acts) && p.Time.Sub(acts[drop].at) > e.window {
			drop++
		}
		acts = acts[drop:]
		for _, a := range acts {
			if a.who == who || e.net[a.who] != k {
				continue
			}
			pair := [2]string{min(a.who, who), max(a.who, who)}
			s := e.shared[pair]
			if s == nil {
				s = map[string]bool{}
				e.shared[pair] = s
			}
			if s[key] {
				continue
			}
			s[key] = true
			if len(s) == e.minWeight {
				e.join(k, pair[0], pair[1], p.Time)
			}
		}
		e.recent[key] = append(acts, act{who, p.Time})
	}
}

func (e *Evidence) find(x string) string {
	for {
		p, ok := e.parent[x]
		if !ok || p == x {
			return x
		}
		if gp := e.parent[p]; gp != p {
			e.parent[x] = gp // path halving
		}
		x = p
	}
}

// join links a and b of network k at time at, and records the network's
// evidence time when their component reaches MinSize.
func (e *Evidence) join(k int, a, b string, at time.Time) {
	ra, rb := e.find(a), e.find(b)
	if ra == rb {
		return
	}
	sa, sb := max(e.compSize[ra], 1), max(e.compSize[rb], 1)
	e.parent[ra], e.parent[rb] = rb, rb
	e.compSize[rb] = sa + sb
	delete(e.compSize, ra)
	if e.at[k].IsZero() && sa+sb >= e.minSize {
		e.at[k] = at
	}
}

// Times returns each network's evidence time by name; a network whose
// members never reach it is absent.
func (e *Evidence) Times(truth scenario.Truth) map[string]time.Time {
	out := map[string]time.Time{}
	for i, n := range truth.Networks {
		if !e.at[i].IsZero() {
			out[n.Name] = e.at[i]
		}
	}
	return out
}

// AddEvidence sets each network's evidence time and reaction time
// (detection minus evidence, 0 when the detector was faster than the
// simple count here, which can happen when its edges or communities
// differ) and the median and worst reaction over networks with both.
func (r *Report) AddEvidence(times map[string]time.Time) {
	var reacts []float64
	for i := range r.Networks {
		n := &r.Networks[i]
		at, ok := times[n.Name]
		if !ok {
			continue
		}
		n.EvidenceAt = at
		if n.DetectedBy == "" {
			continue
		}
		n.ReactionSeconds = max(n.DetectedAt.Sub(at).Seconds(), 0)
		reacts = append(reacts, n.ReactionSeconds)
	}
	r.Reacted = len(reacts)
	if len(reacts) > 0 {
		slices.Sort(reacts)
		r.MedianReactionSeconds = median(reacts)
		r.MaxReactionSeconds = reacts[len(reacts)-1]
	}
}
