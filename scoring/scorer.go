package scoring

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/election"
	"github.com/vigie-osint/vigie/post"
)

// Scorer holds the scoring state of a stream: per-account features, the
// hashtag co-occurrence graph of stance propagation, and each cluster's
// size history (for growth). The graph stage feeds it every new post
// (Observe), refreshes hashtag stance at each detection (Detect), scores
// each active cluster (ScoreCluster), and checkpoints it with the graph
// engine (Snapshot, Restore), so a restarted stage scores as an
// uninterrupted one would. One goroutine uses it at a time.
type Scorer struct {
	cfg   Config
	el    *election.Election
	model *StanceModel
	st    scorerState
}

// scorerState is everything Snapshot saves.
type scorerState struct {
	Version  int
	Accounts *Accounts
	Tags     *TagGraph
	// Polarity is the model's hashtag stance as of the last Detect; it is
	// saved rather than recomputed so that posts observed after a restart
	// are judged exactly as before it.
	Polarity map[string][]float64
	History  map[string]*clusterHistory
}

// clusterHistory is a cluster's size at its recent detections.
type clusterHistory struct {
	Samples []sizeSample
}

type sizeSample struct {
	T    int64 // Unix seconds (stream time of the detection)
	Size int
}

const scorerVersion = 1

// New returns a Scorer for cfg, loading cfg.Election (empty: the embedded
// 2017 French presidential election).
func New(cfg Config) (*Scorer, error) {
	cfg = cfg.withDefaults()
	el, err := election.Load(cfg.Election)
	if err != nil {
		return nil, err
	}
	return NewWith(cfg, el), nil
}

// NewWith returns a Scorer for an election already loaded.
func NewWith(cfg Config, el *election.Election) *Scorer {
	cfg = cfg.withDefaults()
	s := &Scorer{cfg: cfg, el: el, model: NewStanceModel(el)}
	s.st = scorerState{Version: scorerVersion,
		Accounts: NewAccounts(cfg.MaxAccounts, cfg.AccountRetention, el.Location()),
		Tags:     NewTagGraph(cfg.MaxTags), History: map[string]*clusterHistory{}}
	return s
}

// Model is the stance model (hashtag stance as of the last Detect).
func (s *Scorer) Model() *StanceModel { return s.model }

// Accounts is the per-account accumulator.
func (s *Scorer) Accounts() *Accounts { return s.st.Accounts }

// Observe folds a new post into the state. Feed each post once: the
// graph stage calls it only for posts its engine accepted as new.
func (s *Scorer) Observe(p *post.Post) {
	s.st.Tags.Add(p.Hashtags)
	s.st.Accounts.Observe(p, s.model.Classify(p))
}

// Detect refreshes hashtag stance from the co-occurrence graph. The graph
// stage calls it once per detection, before scoring its clusters.
func (s *Scorer) Detect() {
	s.model.Propagate(s.st.Tags)
	s.st.Polarity = s.model.polarity
}

// Snapshot writes the state with encoding/gob.
func (s *Scorer) Snapshot(w io.Writer) error {
	s.st.Polarity = s.model.polarity
	if err := gob.NewEncoder(w).Encode(&s.st); err != nil {
		return fmt.Errorf("scoring: snapshot: %w", err)
	}
	return nil
}

// ErrSnapshotVersion is returned by Restore for a snapshot of another
// format version.
var ErrSnapshotVersion = errors.New("scoring: snapshot version not supported")

// Restore replaces the state with a snapshot's.
func (s *Scorer) Restore(r io.Reader) error {
	var st scorerState
	if err := gob.NewDecoder(r).Decode(&st); err != nil {
		return fmt.Errorf("scoring: restore: %w", err)
	}
	if st.Version != scorerVersion {
		return fmt.Errorf("%w: %d", ErrSnapshotVersion, st.Version)
	}
	if st.Accounts == nil || st.Tags == nil {
		return fmt.Errorf("scoring: restore: incomplete snapshot")
	}
	if st.Accounts.ByKey == nil {
		st.Accounts.ByKey = map[string]*AccountState{}
	}
	if st.Accounts.Created == nil {
		st.Accounts.Created = map[int64]int32{}
	}
	if st.Tags.Count == nil {
		st.Tags.Count = map[string]int32{}
	}
	if st.Tags.Pairs == nil {
		st.Tags.Pairs = map[string]map[string]int32{}
	}
	if st.History == nil {
		st.History = map[string]*clusterHistory{}
	}
	s.st = st
	s.model.resetPolarity()
	for t, v := range st.Polarity {
		s.model.polarity[t] = v
	}
	return nil
}

// SnapshotBytes is Snapshot into a byte slice.
func (s *Scorer) SnapshotBytes() ([]byte, error) {
	var b bytes.Buffer
	err := s.Snapshot(&b)
	return b.Bytes(), err
}

// Weights of the risk model. Each factor is in 0..1; risk = 100 × Σ
// weight × factor over the factors known for a cluster, divided by the
// sum of their weights (a Scorer that has seen no member posts knows no
// stance and no bot-likeness). They are set by judgement, in the order of
// what most distinguishes an influence operation from a crowd of fans:
// acting in lockstep first, then who the accounts are and what they push.
const (
	WeightCoordination = 0.30 // how tightly members act together
	WeightSize         = 0.15 // how many accounts, and how many followers they reach
	WeightVolume       = 0.10 // how many distinct objects they pushed
	WeightBots         = 0.15 // share of bot-like members
	WeightStance       = 0.15 // how one-sided their posts are about one candidate
	WeightGrowth       = 0.10 // growth against the previous window
	WeightNovelty      = 0.05 // how new the cluster is
	sizeScale          = 15.0 // members at which the size factor reaches 1-1/e
	volumeScale        = 20.0 // distinct objects at which the volume factor reaches 1-1/e
	// TargetMinShare: the target candidate must draw at least this share
	// of the members' posts on one side.
	TargetMinShare = 0.15
)

// Score scores a cluster with no stream state: coordination, size and
// volume only (growth, novelty, stance and bots unknown). Kept for callers
// that hold no Scorer.
func Score(cfg Config, c *post.Cluster) {
	s := &Scorer{cfg: cfg.withDefaults()}
	s.ScoreCluster(c)
}

// ScoreCluster fills c's scores, stance, target and bot share.
func (s *Scorer) ScoreCluster(c *post.Cluster) {
	cfg := s.cfg.withDefaults()
	n := len(c.Members)
	sc := post.Scores{}
	c.Stance, c.Target, c.TargetStance, c.BotShare, c.BotLikeness = nil, "", "", 0, 0
	if n < 2 || len(c.Edges) == 0 {
		c.Scores = sc
		return
	}
	possible := float64(n*(n-1)) / 2
	sc.Density = math.Min(1, float64(len(c.Edges))/possible)
	var wsum, dsum float64
	for _, e := range c.Edges {
		wsum += float64(e.Weight)
		dsum += e.MeanDelta * float64(e.Weight)
	}
	sc.MeanWeight = wsum / float64(len(c.Edges))
	meanDelta := 0.0
	if wsum > 0 {
		meanDelta = dsum / wsum
	}
	sc.Synchrony = clamp01(1 - meanDelta/cfg.Window.Seconds())
	// Repetition saturates: sharing 10 distinct objects is already far
	// beyond chance for two accounts within a minute of each other.
	repetition := clamp01((sc.MeanWeight - 1) / 9)
	sc.Coordination = round3(0.4*sc.Density + 0.3*repetition + 0.3*sc.Synchrony)

	objects := 0
	for _, v := range c.Signals {
		objects += v
	}
	size := 1 - math.Exp(-float64(n)/sizeScale)
	volume := 1 - math.Exp(-float64(objects)/volumeScale)

	var fs []factorWords
	fs = append(fs, factorWords{"coordination", WeightCoordination, sc.Coordination,
		fmt.Sprintf("members act together tightly (coordination %.2f: %.0f%% of member pairs linked, %.1f shared objects per link, %.0f s apart on average)", sc.Coordination, 100*sc.Density, sc.MeanWeight, meanDelta)})

	var st *scorerState
	if s.st.Accounts != nil {
		st = &s.st
	}
	// Size and reach.
	sizeF, sizeWords := size, fmt.Sprintf("%d accounts take part", n)
	if st != nil {
		var followers int64
		known := 0
		for _, m := range c.Members {
			if a := st.Accounts.State(m); a != nil && a.HasProfile {
				followers += a.Followers
				known++
			}
		}
		if known > 0 {
			reach := clamp01(math.Log10(1+float64(followers)) / 6)
			sizeF = 0.6*size + 0.4*reach
			sizeWords = fmt.Sprintf("%d accounts take part, reaching %s followers", n, humanCount(followers))
		}
	}
	fs = append(fs, factorWords{"size", WeightSize, sizeF, sizeWords})
	fs = append(fs, factorWords{"volume", WeightVolume, volume, fmt.Sprintf("%d distinct objects pushed together (%s)", objects, describeSignals(c.Signals))})

	if st != nil {
		s.scoreMembers(c, &fs)
		s.scoreHistory(c, &fs)
	}

	var risk, known float64
	for _, f := range fs {
		risk += f.weight * f.value
		known += f.weight
		sc.Factors = append(sc.Factors, post.Factor{Name: f.name, Value: round3(f.value), Weight: f.weight})
	}
	if known > 0 {
		risk /= known
	}
	sc.Risk = math.Round(1000*risk) / 10
	sc.Density, sc.MeanWeight, sc.Synchrony = round3(sc.Density), round3(sc.MeanWeight), round3(sc.Synchrony)
	slices.SortStableFunc(fs, func(a, b factorWords) int {
		ca, cb := a.weight*a.value, b.weight*b.value
		switch {
		case ca > cb:
			return -1
		case ca < cb:
			return 1
		}
		return 0
	})
	for _, f := range fs {
		if f.value <= 0 || f.words == "" {
			continue
		}
		sc.Reasons = append(sc.Reasons, f.words)
		if len(sc.Reasons) == maxReasons {
			break
		}
	}
	if c.Stance != nil {
		sc.Stance = map[string]float64{}
		for k, v := range c.Stance {
			sc.Stance[k] = round3(v.Favour - v.Smear)
		}
	}
	c.Scores = sc
}

// maxReasons bounds the reasons shown: the top factors are what an
// analyst reads; all of them are in Scores.Factors.
const maxReasons = 4

type factorWords struct {
	name   string
	weight float64
	value  float64
	words  string
}

// scoreMembers adds the bot-likeness and stance factors from the members'
// accumulated state, and fills c.Stance, Target and BotShare.
func (s *Scorer) scoreMembers(c *post.Cluster, fs *[]factorWords) {
	acc := s.st.Accounts
	ids := s.model.Candidates()
	favour := make([]int64, len(ids))
	smear := make([]int64, len(ids))
	var posts int64
	tracked, botLike := 0, 0
	var botSum float64
	featureSum := map[string]float64{}
	for _, m := range c.Members {
		st := acc.State(m)
		if st == nil {
			continue
		}
		tracked++
		b, _ := acc.BotLikeness(m)
		botSum += b.Score
		if b.Score >= BotThreshold {
			botLike++
			for _, ct := range b.Contributions {
				featureSum[ct.Feature] += ct.Contribution
			}
		}
		posts += int64(st.Posts)
		for i := range ids {
			if i < len(st.Favour) {
				favour[i] += int64(st.Favour[i])
				smear[i] += int64(st.Smear[i])
			}
		}
	}
	if tracked == 0 {
		return
	}
	c.BotShare = round3(float64(botLike) / float64(len(c.Members)))
	c.BotLikeness = round3(botSum / float64(tracked))
	botWords := fmt.Sprintf("%d of %d members look automated or mass-created", botLike, len(c.Members))
	if top := topFeatures(featureSum, 2); top != "" {
		botWords += " (" + top + ")"
	}
	*fs = append(*fs, factorWords{"bots", WeightBots, c.BotShare, botWords})

	if posts == 0 {
		return
	}
	c.Stance = map[string]post.StanceScore{}
	best, bestShare, bestSide := -1, 0.0, ""
	for i, id := range ids {
		f, sm := float64(favour[i])/float64(posts), float64(smear[i])/float64(posts)
		if f == 0 && sm == 0 {
			continue
		}
		c.Stance[id] = post.StanceScore{Favour: round3(f), Smear: round3(sm)}
		for _, side := range []struct {
			name  string
			share float64
		}{{Favour, f}, {Smear, sm}} {
			if side.share > bestShare {
				best, bestShare, bestSide = i, side.share, side.name
			}
		}
	}
	if len(c.Stance) == 0 {
		c.Stance = nil
	}
	words := ""
	if best >= 0 && bestShare >= TargetMinShare {
		c.Target, c.TargetStance = ids[best], bestSide
		name := ids[best]
		if cand, ok := s.el.Candidate(name); ok {
			name = cand.Name
		}
		verb := "favour"
		if bestSide == Smear {
			verb = "smear"
		}
		words = fmt.Sprintf("%.0f%% of the members' posts %s %s", 100*bestShare, verb, name)
	}
	// Concentration: the target's share, discounted by the opposite side
	// on the same candidate (a cluster split for and against is a debate,
	// not a campaign).
	conc := 0.0
	if best >= 0 {
		f, sm := float64(favour[best])/float64(posts), float64(smear[best])/float64(posts)
		conc = clamp01(math.Abs(f-sm) / 0.6)
	}
	*fs = append(*fs, factorWords{"stance", WeightStance, conc, words})
}

// scoreHistory adds growth against the previous window and novelty, and
// records the cluster's size at this detection.
func (s *Scorer) scoreHistory(c *post.Cluster, fs *[]factorWords) {
	cfg := s.cfg.withDefaults()
	now := c.Detected.Unix()
	n := len(c.Members)
	h := s.st.History[c.ID]
	if h == nil {
		h = &clusterHistory{}
		s.st.History[c.ID] = h
	}
	// The size one window ago: the latest sample at or before now-window.
	prev, havePrev := 0, false
	for _, sm := range h.Samples {
		if sm.T <= now-int64(cfg.GrowthWindow/time.Second) {
			prev, havePrev = sm.Size, true
		}
	}
	growth, gWords := 0.0, ""
	if havePrev && n > prev {
		growth = clamp01(float64(n-prev) / float64(max(prev, 1)))
		gWords = fmt.Sprintf("grew from %d to %d members in the last %s", prev, n, shortDuration(cfg.GrowthWindow))
	}
	*fs = append(*fs, factorWords{"growth", WeightGrowth, growth, gWords})
	age := c.Detected.Sub(c.FirstSeen)
	novelty := clamp01(1 - age.Seconds()/cfg.NoveltyWindow.Seconds())
	nWords := ""
	if novelty > 0 {
		nWords = fmt.Sprintf("new: first co-action %s ago", shortDuration(age))
	}
	*fs = append(*fs, factorWords{"novelty", WeightNovelty, novelty, nWords})

	// Record this detection; keep two windows of samples, at most 32.
	if len(h.Samples) == 0 || h.Samples[len(h.Samples)-1].T < now {
		h.Samples = append(h.Samples, sizeSample{T: now, Size: n})
	} else {
		h.Samples[len(h.Samples)-1].Size = n
	}
	cut := now - 2*int64(cfg.GrowthWindow/time.Second)
	keep := h.Samples[:0]
	for i, sm := range h.Samples {
		// Keep the latest sample before the cut too: it is the size one
		// window ago until a newer one passes the cut.
		if sm.T >= cut || i+1 < len(h.Samples) && h.Samples[i+1].T >= cut {
			keep = append(keep, sm)
		}
	}
	if len(keep) > 32 {
		keep = keep[len(keep)-32:]
	}
	h.Samples = keep
}

// Forget drops the history of clusters that ended (merged or expired), so
// it stays bounded by the active clusters.
func (s *Scorer) Forget(id string) { delete(s.st.History, id) }

func topFeatures(sum map[string]float64, k int) string {
	type kv struct {
		k string
		v float64
	}
	var l []kv
	for f, v := range sum {
		l = append(l, kv{f, v})
	}
	slices.SortFunc(l, func(a, b kv) int {
		switch {
		case a.v > b.v:
			return -1
		case a.v < b.v:
			return 1
		}
		return strings.Compare(a.k, b.k)
	})
	var words []string
	for _, x := range l {
		if len(words) == k {
			break
		}
		for _, w := range BotWeights {
			if w.Name == x.k {
				words = append(words, w.Words)
			}
		}
	}
	return strings.Join(words, "; ")
}

func humanCount(n int64) string {
	switch {
	case n >= 1_000_000:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 10_000:
		return fmt.Sprintf("%.0fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

func shortDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%.0f days", d.Hours()/24)
	case d >= 2*time.Hour:
		return fmt.Sprintf("%.0f h", d.Hours())
	}
	return fmt.Sprintf("%.0f min", d.Minutes())
}
