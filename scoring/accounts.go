package scoring

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/vigie-osint/vigie/post"
)

// AccountState is what Vigie remembers of one account: a few counters per
// account, whatever its activity, so memory grows with accounts, not posts.
// Fields are exported for encoding/gob (the graph stage checkpoints it).
type AccountState struct {
	Posts   int32
	Reposts int32
	Night   int32 // posts between 01:00 and 06:00 in the election's time zone
	First   int64 // Unix seconds of the first and last post seen
	Last    int64
	// Inter-post intervals (seconds), Welford's running mean and M2.
	IntN    int32
	IntMean float64
	IntM2   float64
	// Latest profile snapshot seen with the account's posts.
	HasProfile     bool
	Handle         string
	Created        int64 // Unix seconds; 0 unknown
	Followers      int64
	Following      int64
	Statuses       int64 // the profile's lifetime post count
	DefaultProfile bool
	Verified       bool
	ObservedAt     int64
	// MinAgeDays is the youngest the account was at any post (days).
	MinAgeDays float64
	// Favour and Smear count the account's posts per candidate stance,
	// indexed like StanceModel.Candidates.
	Favour []int32
	Smear  []int32
}

// Accounts accumulates per-account features from the post stream. It is
// bounded by Max accounts: when full, accounts silent for Retention (of
// stream time) are dropped, and if none is, new accounts are not tracked
// (their bot-likeness then reads as unknown, 0). It is deterministic for
// a given input order and gob-friendly; one goroutine uses it at a time.
type Accounts struct {
	Max       int
	Retention int64 // seconds
	Location  string
	Now       int64 // the latest post time seen (Unix seconds)
	ByKey     map[string]*AccountState
	// Created counts tracked accounts per creation hour (Unix hours), for
	// the batch-creation feature. Accounts created more than two years
	// before their first post are left out: batches are a sign of recent
	// mass sign-ups, and old accounts would only add noise.
	Created map[int64]int32
	Dropped int64 // accounts not tracked or evicted because of Max

	loc *time.Location
}

// NewAccounts returns an empty accumulator. loc is the electorate's time
// zone (night activity); nil means UTC.
func NewAccounts(max int, retention time.Duration, loc *time.Location) *Accounts {
	if loc == nil {
		loc = time.UTC
	}
	return &Accounts{Max: max, Retention: int64(retention / time.Second), Location: loc.String(),
		ByKey: map[string]*AccountState{}, Created: map[int64]int32{}, loc: loc}
}

func (a *Accounts) location() *time.Location {
	if a.loc == nil {
		a.loc = time.UTC
		if l, err := time.LoadLocation(a.Location); err == nil {
			a.loc = l
		}
	}
	return a.loc
}

// Observe folds one post into its author's state. js is the post's stance
// judgements (nil when stance is not scored).
func (a *Accounts) Observe(p *post.Post, js []Judgement) {
	t := p.Time.Unix()
	a.Now = max(a.Now, t)
	key := p.AuthorKey()
	st := a.ByKey[key]
	if st == nil {
		if len(a.ByKey) >= a.Max {
			a.evict()
		}
		if len(a.ByKey) >= a.Max {
			a.Dropped++
			return
		}
		st = &AccountState{First: t, Last: t, MinAgeDays: math.Inf(1)}
		a.ByKey[key] = st
	} else if t > st.Last {
		gap := float64(t - st.Last)
		st.IntN++
		d := gap - st.IntMean
		st.IntMean += d / float64(st.IntN)
		st.IntM2 += d * (gap - st.IntMean)
		st.Last = t
	}
	st.First = min(st.First, t)
	st.Posts++
	if p.RepostOf != "" {
		st.Reposts++
	}
	if h := p.Time.In(a.location()).Hour(); h >= 1 && h < 6 {
		st.Night++
	}
	if ac := p.Account; ac != nil {
		obs := ac.ObservedAt.Unix()
		if ac.ObservedAt.IsZero() {
			obs = t
		}
		if !st.HasProfile || obs >= st.ObservedAt {
			created := int64(0)
			if !ac.CreatedAt.IsZero() {
				created = ac.CreatedAt.Unix()
			}
			if !st.HasProfile && created != 0 && t-created < 2*365*86400 {
				a.Created[created/3600]++
			}
			st.HasProfile, st.ObservedAt = true, obs
			st.Handle, st.Created = ac.Handle, created
			st.Followers, st.Following, st.Statuses = ac.Followers, ac.Following, ac.Posts
			st.DefaultProfile, st.Verified = ac.DefaultProfile, ac.Verified
		}
		if st.Created != 0 {
			st.MinAgeDays = math.Min(st.MinAgeDays, float64(t-st.Created)/86400)
		}
	}
	if len(js) > 0 {
		if len(st.Favour) != len(js) {
			st.Favour, st.Smear = make([]int32, len(js)), make([]int32, len(js))
		}
		for i, j := range js {
			switch j.Stance {
			case Favour:
				st.Favour[i]++
			case Smear:
				st.Smear[i]++
			}
		}
	}
}

// evict drops the accounts silent for Retention, in key order.
func (a *Accounts) evict() {
	if a.Retention <= 0 {
		return
	}
	for k, st := range a.ByKey {
		if a.Now-st.Last > a.Retention {
			if st.Created != 0 && st.First-st.Created < 2*365*86400 {
				if a.Created[st.Created/3600]--; a.Created[st.Created/3600] <= 0 {
					delete(a.Created, st.Created/3600)
				}
			}
			delete(a.ByKey, k)
			a.Dropped++
		}
	}
}

// State returns an account's state (nil when not tracked).
func (a *Accounts) State(key string) *AccountState { return a.ByKey[key] }

// Features are an account's bot-likeness features, each in 0..1 where 1
// is the most bot-like. Known tells which could be computed (no profile:
// no profile features; fewer than 5 posts: no interval features).
type Features struct {
	Rate        float64 // posts per day, observed or lifetime, log-scaled: 10/day 0, 100/day 1
	Burstiness  float64 // Goh-Barabási burstiness of intervals, positive part
	Regularity  float64 // 1 - coefficient of variation of intervals (clock-like posting)
	Reposts     float64 // share of reposts above one half
	Night       float64 // share of posts at night (01-06 local) above 10%
	Young       float64 // account younger than 180 days at post time
	Default     float64 // default profile (no picture or banner)
	Digits      float64 // digits in the handle (generated handles)
	Ratio       float64 // follows many, followed by few
	Batch       float64 // other tracked accounts created within the same hours
	Known       map[string]bool
	Posts       int
	AgeDays     float64
	HandleShown string
}

// Feature names, in report order, with their weights. The weights sum to
// 1, so bot-likeness is a weighted mean of the known features, each in
// 0..1. They are set by judgement from the bot-detection literature
// (Botometer's feature families; Varol et al. 2017; Chavoshi et al. on
// synchronised and batch-created accounts): profile traits of mass-created
// accounts weigh most, because activity alone also flags keen humans.
var BotWeights = []struct {
	Name   string
	Weight float64
	Words  string // plain words for reasons
}{
	{"rate", 0.15, "posts very often"},
	{"burstiness", 0.05, "posts in bursts"},
	{"regularity", 0.05, "posts at clock-like intervals"},
	{"reposts", 0.10, "mostly reposts"},
	{"night", 0.05, "posts at night"},
	{"young", 0.15, "account is new"},
	{"default", 0.10, "default profile"},
	{"digits", 0.10, "handle full of digits"},
	{"ratio", 0.10, "follows many, followed by few"},
	{"batch", 0.15, "created in a batch with other accounts"},
}

// BotThreshold: an account at or above it counts as bot-like in a
// cluster's bot share.
const BotThreshold = 0.5

// Features computes an account's features at stream time Now.
func (a *Accounts) Features(key string) (Features, bool) {
	st := a.ByKey[key]
	if st == nil {
		return Features{}, false
	}
	f := Features{Known: map[string]bool{}, Posts: int(st.Posts), HandleShown: st.Handle}
	span := math.Max(float64(st.Last-st.First)/86400, 1)
	rate := float64(st.Posts) / span
	if st.HasProfile && st.Created != 0 && st.Statuses > 0 {
		life := math.Max(float64(st.ObservedAt-st.Created)/86400, 1)
		rate = math.Max(rate, float64(st.Statuses)/life)
	}
	f.Rate = clamp01(math.Log10(math.Max(rate, 1e-9)/10) / 1)
	f.Known["rate"] = true
	if st.IntN >= 4 {
		mean := st.IntMean
		sd := math.Sqrt(st.IntM2 / float64(st.IntN))
		if mean+sd > 0 {
			f.Burstiness = clamp01((sd - mean) / (sd + mean))
		}
		if mean > 0 {
			f.Regularity = clamp01(1 - sd/mean)
		}
		f.Known["burstiness"], f.Known["regularity"] = true, true
	}
	f.Reposts = clamp01((float64(st.Reposts)/float64(st.Posts) - 0.5) / 0.5)
	f.Night = clamp01((float64(st.Night)/float64(st.Posts) - 0.1) / 0.3)
	f.Known["reposts"], f.Known["night"] = true, true
	if st.HasProfile {
		if st.Created != 0 && !math.IsInf(st.MinAgeDays, 0) {
			f.AgeDays = st.MinAgeDays
			f.Young = clamp01(1 - st.MinAgeDays/180)
			f.Known["young"] = true
			if st.First-st.Created < 2*365*86400 {
				h := st.Created / 3600
				n := a.Created[h-1] + a.Created[h] + a.Created[h+1] - 1
				f.Batch = clamp01(float64(n) / 4)
			}
			f.Known["batch"] = true
		}
		if st.DefaultProfile {
			f.Default = 1
		}
		f.Known["default"] = true
		if st.Handle != "" {
			f.Digits = clamp01(float64(digitRun(st.Handle)-2) / 5)
			f.Known["digits"] = true
		}
		if st.Following >= 50 {
			ratio := float64(st.Followers) / float64(st.Following)
			f.Ratio = clamp01((-math.Log10(ratio+1e-3) - 0.5) / 1.5)
		}
		f.Known["ratio"] = true
		if st.Verified {
			// A verified account was checked by the platform; its
			// profile traits are not those of a throwaway.
			f.Young, f.Default, f.Digits, f.Batch = 0, 0, 0, 0
		}
	}
	return f, true
}

// digitRun is the number of digits in a handle.
func digitRun(h string) int {
	n := 0
	for _, r := range h {
		if unicode.IsDigit(r) {
			n++
		}
	}
	return n
}

func (f Features) value(name string) float64 {
	switch name {
	case "rate":
		return f.Rate
	case "burstiness":
		return f.Burstiness
	case "regularity":
		return f.Regularity
	case "reposts":
		return f.Reposts
	case "night":
		return f.Night
	case "young":
		return f.Young
	case "default":
		return f.Default
	case "digits":
		return f.Digits
	case "ratio":
		return f.Ratio
	case "batch":
		return f.Batch
	}
	return 0
}

// Contribution is one feature's share of a bot-likeness score.
type Contribution struct {
	Feature      string  `json:"feature"`
	Value        float64 `json:"value"`        // 0..1
	Weight       float64 `json:"weight"`       // from BotWeights
	Contribution float64 `json:"contribution"` // weight × value / known weight
}

// BotScore is an account's bot-likeness with each feature's contribution,
// largest first.
type BotScore struct {
	Score         float64        `json:"score"` // 0..1
	Contributions []Contribution `json:"contributions"`
}

// Reasons lists the features that contribute at least 0.05, in words.
func (b BotScore) Reasons() []string {
	var out []string
	for _, c := range b.Contributions {
		if c.Contribution < 0.05 {
			break
		}
		for _, w := range BotWeights {
			if w.Name == c.Feature {
				out = append(out, fmt.Sprintf("%s (+%.2f)", w.Words, c.Contribution))
			}
		}
	}
	return out
}

// BotLikeness scores an account in 0..1: the weighted mean of its known
// features (unknown ones are left out and the weights renormalised, so an
// account without a profile is judged on activity alone).
func (a *Accounts) BotLikeness(key string) (BotScore, bool) {
	f, ok := a.Features(key)
	if !ok {
		return BotScore{}, false
	}
	return f.Score(), true
}

// Score combines the features with BotWeights.
func (f Features) Score() BotScore {
	var known float64
	for _, w := range BotWeights {
		if f.Known[w.Name] {
			known += w.Weight
		}
	}
	var b BotScore
	if known == 0 {
		return b
	}
	for _, w := range BotWeights {
		if !f.Known[w.Name] {
			continue
		}
		v := f.value(w.Name)
		c := w.Weight * v / known
		b.Score += c
		b.Contributions = append(b.Contributions, Contribution{Feature: w.Name, Value: round3(v), Weight: w.Weight, Contribution: round3(c)})
	}
	b.Score = round3(b.Score)
	slices.SortStableFunc(b.Contributions, func(x, y Contribution) int {
		switch {
		case x.Contribution > y.Contribution:
			return -1
		case x.Contribution < y.Contribution:
			return 1
		}
		return strings.Compare(x.Feature, y.Feature)
	})
	return b
}
