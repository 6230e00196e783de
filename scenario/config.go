package scenario

import (
	"errors"
	"fmt"
	"time"
)

// Tactic is how a planted network coordinates. Each tactic leaves the trace
// a co-action detector looks for (accounts reposting the same post or
// sharing the same link within seconds of each other), in a different way.
type Tactic string

// The planted tactics.
const (
	// RepostRing members repost the same seed posts (their leaders' or a
	// friendly popular account's) within seconds to a couple of minutes.
	RepostRing Tactic = "repost_ring"
	// CopyPaste members post the same text with small edits and the same
	// link to a fringe site within a minute or two of each other.
	CopyPaste Tactic = "copy_paste"
	// LinkPush members share each new article of a few fringe domains
	// within minutes of each other, each with their own words.
	LinkPush Tactic = "link_push"
	// HashtagPush members tweet the push's hashtag and repost the push's
	// leaders within seconds, so the hashtag trends.
	HashtagPush Tactic = "hashtag_push"
	// ReplyBrigade members reply to the same posts of the target
	// candidate within a minute or two of each other, with hostile
	// (smear) or cheering (favour) lines and the campaign's hashtag: the
	// reply section fills up with the network. Its trace is co-replying,
	// the reply signal (graph.signals must include "reply").
	ReplyBrigade Tactic = "reply_brigade"
	// SlowPush is coordination spread out to stay under a co-action
	// window: each burst is a leader's post, reposted by the members at
	// times spread evenly over MaxLag (default 30 minutes) rather than
	// within seconds, and bursts come every few hours. Two members rarely
	// act within a minute of each other in any one burst; only over many
	// bursts do they pile up co-actions.
	SlowPush Tactic = "slow_push"
)

// Stances a network takes towards its target candidate.
const (
	StanceFavour = "favour"
	StanceSmear  = "smear"
)

// Config describes one scenario. The zero value of every field means its
// default, so Config{} is the default scenario; Networks is the exception
// that tells nil (the default planted set) from empty (no networks).
type Config struct {
	Seed     uint64        // default 2017
	Start    time.Time     // default 2017-05-03T00:00:00Z, the day of the Macron-Le Pen debate
	Duration time.Duration // default 96h, up to the eve of the second round

	// OrganicUsers is the number of ordinary accounts, besides the ~45
	// popular ones (media, candidates, influencers). Default 3000.
	OrganicUsers int
	// PostsPerDay is the mean number of posts per organic user per day,
	// retweets included and viral cascades excluded. Activity is
	// lognormal around it, so most users post little and a few post a
	// lot. Default 6.
	PostsPerDay float64
	// RetweetShare, ReplyShare and QuoteShare split organic posts by
	// kind; the rest are original posts. Defaults 0.45, 0.12, 0.05.
	RetweetShare, ReplyShare, QuoteShare float64
	// LinkShare is the share of organic original posts that carry a news
	// link. Default 0.3.
	LinkShare float64
	// EnglishShare is the share of organic users who post in English
	// (foreign observers). Default 0.08.
	EnglishShare float64
	// CascadesPerDay is the number of viral posts per day, each retweeted
	// by CascadeSize organic users (median; lognormal) within minutes to
	// hours: genuine mass retweeting a detector must not flag. Defaults
	// 10 and 220.
	CascadesPerDay float64
	CascadeSize    int
	// SnapshotEvery is how often an author's account snapshot is attached
	// to their posts: a post carries one when the author's last one is
	// older. Zero attaches one to every post, as Twitter's API does; a
	// longer period keeps files small. Default 0; Compact uses 24h.
	SnapshotEvery time.Duration

	// NewsBots is the number of automated news aggregators: organic
	// accounts that poll a few outlets' feeds every few minutes and post
	// each new article's link at machine regularity. Bots that follow the
	// same outlets share the same links within seconds, over and over,
	// without any coordination: a hard negative. Default 0 (none).
	NewsBots int
	// BreakingNews is the number of breaking-news bursts: a story breaks
	// and BreakingSize organic users (median) share the same article and
	// hashtag within minutes, far denser than any cascade. Default 0
	// (none); BreakingSize defaults to 150.
	BreakingNews int
	BreakingSize int

	// Networks are the planted coordinated networks. Nil means
	// DefaultNetworks(); a non-nil empty slice means none.
	Networks []NetworkSpec
}

// NetworkSpec describes one planted network. Zero fields take defaults
// that depend on the tactic.
type NetworkSpec struct {
	Name   string // unique, e.g. "fn-repost-ring"
	Tactic Tactic
	Size   int    // members that coordinate, 3 or more
	Target string // candidate ID: macron, lepen, fillon, melenchon, hamon
	Stance string // StanceFavour or StanceSmear
	Lang   string // "fr" (default) or "en"

	// Start and Duration bound the network's activity; zero means the
	// scenario's start and the rest of the scenario. The window is clipped
	// to the scenario and must overlap it.
	Start    time.Time
	Duration time.Duration

	// Bursts is the number of coordinated bursts in the window: seed
	// posts for a repost ring or hashtag push, campaigns for copy-paste,
	// articles for a link push. Default 20.
	Bursts int
	// Participation is the mean share of members acting in each burst;
	// each member's own rate varies around it. Default 0.75.
	Participation float64
	// MaxLag is the latest a member acts after a burst starts. Defaults:
	// 90s for reposts, 100s for copy-paste, 150s for link pushes.
	MaxLag time.Duration
	// Camouflage is the share of members that look organic: older
	// accounts with filled profiles that also post like ordinary users.
	// The rest look like bots. Default 0.3.
	Camouflage float64
	// Leaders is the number of accounts whose posts a repost ring or a
	// hashtag push amplifies. They do not co-act themselves. Default
	// Size/12, at least 2; ignored by other tactics.
	Leaders int
	// Hashtag is a hashtag push's tag, without '#'. Default from the
	// target and stance.
	Hashtag string
	// Domains are the fringe sites a copy-paste or link push links to.
	// Default from the target and stance.
	Domains []string
	// Sleeper makes the network's bot-like members sleeper accounts:
	// created in batches one to three years before the operation, then
	// dormant (a handful of statuses, no post at all) until the
	// network's Start, when they wake up together. Camouflaged members
	// are unaffected.
	Sleeper bool
}

// Key dates of the 2017 race, in UTC. Templates and the activity profile
// use them; a scenario outside May 2017 simply never meets them.
var (
	defaultStart = time.Date(2017, 5, 3, 0, 0, 0, 0, time.UTC)
	debateStart  = time.Date(2017, 5, 3, 19, 0, 0, 0, time.UTC)  // 21:00 Paris, TF1/France 2
	debateEnd    = time.Date(2017, 5, 3, 21, 35, 0, 0, time.UTC) //
	leaksDump    = time.Date(2017, 5, 5, 18, 50, 0, 0, time.UTC) // the dump appears on 4chan and Pastebin
	reserveStart = time.Date(2017, 5, 5, 22, 0, 0, 0, time.UTC)  // midnight Paris: official campaign ends
)

// DefaultNetworks is the planted set of the default scenario: seven
// networks of 15 to 40 members covering the four tactics, modelled on the
// operations reported around the second round.
func DefaultNetworks() []NetworkSpec {
	d := func(day, hour, minute int) time.Time { return time.Date(2017, 5, day, hour, minute, 0, 0, time.UTC) }
	return []NetworkSpec{
		{Name: "fn-repost-ring", Tactic: RepostRing, Size: 34, Target: "lepen", Stance: StanceFavour,
			Start: d(3, 6, 0), Bursts: 40, Leaders: 3},
		{Name: "bahamas-copypaste", Tactic: CopyPaste, Size: 22, Target: "macron", Stance: StanceSmear,
			Start: d(3, 18, 30), Duration: 51*time.Hour + 30*time.Minute, Bursts: 14},
		{Name: "insoumis-linkpush", Tactic: LinkPush, Size: 26, Target: "melenchon", Stance: StanceFavour,
			Start: d(3, 8, 0), Duration: 84 * time.Hour, Bursts: 22},
		{Name: "macronleaks-push", Tactic: HashtagPush, Size: 40, Target: "macron", Stance: StanceSmear,
			Start: leaksDump, Bursts: 30, Leaders: 3, Hashtag: "MacronLeaks"},
		{Name: "maga-en-ring", Tactic: RepostRing, Size: 20, Target: "macron", Stance: StanceSmear, Lang: "en",
			Start: d(5, 19, 30), Bursts: 24, Leaders: 2},
		{Name: "marcheurs-push", Tactic: HashtagPush, Size: 18, Target: "macron", Stance: StanceFavour,
			Start: d(4, 6, 0), Duration: 40 * time.Hour, Bursts: 18, Leaders: 2, Hashtag: "JeVoteMacron"},
		{Name: "fillon-copypaste", Tactic: CopyPaste, Size: 15, Target: "fillon", Stance: StanceSmear,
			Start: d(3, 7, 0), Duration: 36 * time.Hour, Bursts: 16},
	}
}

// Default returns the default scenario with every field filled in.
func Default() Config {
	c, _ := Config{}.resolve()
	return c
}

// Compact returns the scenario bundled in testdata/scenario: the same
// four days and planted networks as the default, with a third of the
// organic users and less chatter, and one account snapshot per author per
// day, so the file stays a few megabytes while the networks keep the same
// shape against a smaller background.
func Compact() Config {
	c := Default()
	c.OrganicUsers = 1000
	c.PostsPerDay = 3.5
	c.CascadesPerDay = 5
	c.CascadeSize = 120
	c.SnapshotEvery = 24 * time.Hour
	return c
}

// resolve returns the config with defaults filled in, or the first error.
func (c Config) resolve() (Config, error) {
	if c.Seed == 0 {
		c.Seed = 2017
	}
	if c.Start.IsZero() {
		c.Start = defaultStart
	}
	c.Start = c.Start.UTC()
	if c.Duration == 0 {
		c.Duration = 96 * time.Hour
	}
	if c.OrganicUsers == 0 {
		c.OrganicUsers = 3000
	}
	if c.PostsPerDay == 0 {
		c.PostsPerDay = 6
	}
	if c.RetweetShare == 0 {
		c.RetweetShare = 0.45
	}
	if c.ReplyShare == 0 {
		c.ReplyShare = 0.12
	}
	if c.QuoteShare == 0 {
		c.QuoteShare = 0.05
	}
	if c.LinkShare == 0 {
		c.LinkShare = 0.3
	}
	if c.EnglishShare == 0 {
		c.EnglishShare = 0.08
	}
	if c.CascadesPerDay == 0 {
		c.CascadesPerDay = 10
	}
	if c.CascadeSize == 0 {
		c.CascadeSize = 220
	}
	if c.Networks == nil {
		c.Networks = DefaultNetworks()
	}
	switch {
	case c.Duration < time.Hour || c.Duration > 31*24*time.Hour:
		return c, fmt.Errorf("scenario: duration %v outside 1h-31 days", c.Duration)
	case c.Start.Year() < 2008 || c.Start.Year() > 2090:
		return c, fmt.Errorf("scenario: start %v outside 2008-2090", c.Start)
	case c.OrganicUsers < 0 || c.OrganicUsers > 1_000_000:
		return c, fmt.Errorf("scenario: organic users %d outside 0-1000000", c.OrganicUsers)
	case c.PostsPerDay < 0 || c.PostsPerDay > 200:
		return c, fmt.Errorf("scenario: posts per day %g outside 0-200", c.PostsPerDay)
	case c.RetweetShare < 0 || c.ReplyShare < 0 || c.QuoteShare < 0 || c.RetweetShare+c.ReplyShare+c.QuoteShare > 1:
		return c, errors.New("scenario: retweet, reply and quote shares must be non-negative and sum to at most 1")
	case c.LinkShare < 0 || c.LinkShare > 1 || c.EnglishShare < 0 || c.EnglishShare > 1:
		return c, errors.New("scenario: link and English shares must be within 0-1")
	case c.CascadesPerDay < 0 || c.CascadesPerDay > 1000 || c.CascadeSize < 0:
		return c, errors.New("scenario: cascades per day must be within 0-1000 and cascade size non-negative")
	case c.SnapshotEvery < 0:
		return c, errors.New("scenario: negative snapshot period")
	case c.NewsBots < 0 || c.NewsBots > 10_000:
		return c, fmt.Errorf("scenario: news bots %d outside 0-10000", c.NewsBots)
	case c.BreakingNews < 0 || c.BreakingNews > 1000 || c.BreakingSize < 0:
		return c, errors.New("scenario: breaking news must be within 0-1000 and its size non-negative")
	}
	if c.BreakingSize == 0 {
		c.BreakingSize = 150
	}
	end := c.Start.Add(c.Duration)
	nets := make([]NetworkSpec, len(c.Networks))
	names := make(map[string]bool)
	for i, n := range c.Networks {
		n, err := n.resolve(c.Start, end)
		if err != nil {
			return c, err
		}
		if names[n.Name] {
			return c, fmt.Errorf("scenario: network %q: duplicate name", n.Name)
		}
		names[n.Name] = true
		nets[i] = n
	}
	c.Networks = nets
	return c, nil
}

func (n NetworkSpec) resolve(start, end time.Time) (NetworkSpec, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("scenario: network %q: %s", n.Name, fmt.Sprintf(format, a...))
	}
	if n.Name == "" {
		return n, errors.New("scenario: network without a name")
	}
	switch n.Tactic {
	case RepostRing, CopyPaste, LinkPush, HashtagPush, ReplyBrigade, SlowPush:
	default:
		return n, bad("unknown tactic %q", n.Tactic)
	}
	if n.Size < 3 || n.Size > 5000 {
		return n, bad("size %d outside 3-5000", n.Size)
	}
	if candidateIndex(n.Target) < 0 {
		return n, bad("unknown target %q", n.Target)
	}
	if n.Stance != StanceFavour && n.Stance != StanceSmear {
		return n, bad("stance %q, want %q or %q", n.Stance, StanceFavour, StanceSmear)
	}
	if n.Lang == "" {
		n.Lang = "fr"
	}
	if n.Lang != "fr" && n.Lang != "en" {
		return n, bad("language %q, want fr or en", n.Lang)
	}
	if n.Start.IsZero() || n.Start.Before(start) {
		n.Start = start
	}
	n.Start = n.Start.UTC()
	if n.Duration == 0 || n.Start.Add(n.Duration).After(end) {
		n.Duration = end.Sub(n.Start)
	}
	if n.Duration < time.Minute {
		return n, bad("window does not overlap the scenario")
	}
	if n.Bursts == 0 {
		n.Bursts = 20
	}
	if n.Participation == 0 {
		n.Participation = 0.75
	}
	if n.MaxLag == 0 {
		n.MaxLag = map[Tactic]time.Duration{RepostRing: 90 * time.Second, HashtagPush: 90 * time.Second,
			CopyPaste: 100 * time.Second, LinkPush: 150 * time.Second, ReplyBrigade: 120 * time.Second,
			SlowPush: 30 * time.Minute}[n.Tactic]
	}
	if n.Camouflage == 0 {
		n.Camouflage = 0.3
	}
	if n.Leaders == 0 {
		n.Leaders = max(2, n.Size/12)
	}
	if n.Tactic != RepostRing && n.Tactic != HashtagPush && n.Tactic != SlowPush {
		n.Leaders = 0
	}
	if n.Hashtag == "" && (n.Tactic == HashtagPush || n.Tactic == ReplyBrigade) {
		n.Hashtag = defaultHashtag(n.Target, n.Stance)
	}
	if len(n.Domains) == 0 && (n.Tactic == CopyPaste || n.Tactic == LinkPush) {
		n.Domains = fringeDomains(n.Target, n.Stance, n.Lang)
	}
	switch {
	case n.Bursts < 1 || n.Bursts > 100_000:
		return n, bad("bursts %d outside 1-100000", n.Bursts)
	case n.Participation <= 0 || n.Participation > 1:
		return n, bad("participation %g outside (0, 1]", n.Participation)
	case n.MaxLag < 5*time.Second || n.MaxLag > 12*time.Hour:
		return n, bad("max lag %v outside 5s-12h", n.MaxLag)
	case n.Camouflage < 0 || n.Camouflage > 1:
		return n, bad("camouflage %g outside 0-1", n.Camouflage)
	case n.Leaders < 0 || n.Leaders > 100:
		return n, bad("leaders %d outside 0-100", n.Leaders)
	}
	return n, nil
}
