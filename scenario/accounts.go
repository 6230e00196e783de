package scenario

import (
	"math"
	"strconv"
	"time"
)

// twitterEpoch is the origin of Twitter's snowflake IDs, in Unix ms.
const twitterEpoch = 1288834974657

// role is what an account is in the scenario.
type role uint8

const (
	roleUser       role = iota // ordinary organic user
	roleMedia                  // news outlet: posts article links
	roleCandidate              // candidate or party account
	roleInfluencer             // popular partisan or pundit
	roleMember                 // member of a planted network
	roleLeader                 // account a planted network amplifies
	roleNewsBot                // automated news aggregator: organic, but machine-regular
)

type acct struct {
	id, handle, name, desc, lang string
	created                      int64 // Unix ms
	followers, following, posts  int64 // posts: statuses before the scenario
	verified, defaultProfile     bool
	lean                         int     // candidate index or noLeaning
	rate                         float64 // organic actions per day
	role                         role
	net                          int     // planted network index, -1 if none
	camouflage                   bool    // planted member that looks organic
	pop                          float64 // weight as a retweet target
	outlet                       int     // outlets index for media, -1 otherwise

	// from is when the account starts posting (Unix ms); 0 means the
	// scenario's start. Sleeper accounts wake up with their network.
	from int64

	emitted  int64 // posts emitted so far, for the snapshot's statuses count
	lastSnap int64 // ms of the last attached snapshot, -1 if none
}

// Pre-2016 Twitter user IDs grew roughly linearly with sign-up date
// between these points; accounts created since late 2015 get snowflake
// IDs that encode their creation time. Matching that makes an ID say how
// old an account is, as on the real platform, and makes a batch of
// accounts created together show up as a run of close IDs.
var idAnchors = []struct {
	t  time.Time
	id float64
}{
	{time.Date(2007, 1, 1, 0, 0, 0, 0, time.UTC), 1e6},
	{time.Date(2008, 1, 1, 0, 0, 0, 0, time.UTC), 1.2e7},
	{time.Date(2009, 1, 1, 0, 0, 0, 0, time.UTC), 1.9e7},
	{time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC), 1.0e8},
	{time.Date(2011, 1, 1, 0, 0, 0, 0, time.UTC), 2.3e8},
	{time.Date(2012, 1, 1, 0, 0, 0, 0, time.UTC), 4.6e8},
	{time.Date(2013, 1, 1, 0, 0, 0, 0, time.UTC), 1.05e9},
	{time.Date(2014, 1, 1, 0, 0, 0, 0, time.UTC), 2.27e9},
	{time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC), 2.96e9},
	{time.Date(2015, 12, 1, 0, 0, 0, 0, time.UTC), 4.2e9},
}

func (g *gen) accountID(r *rng, created int64) string {
	for {
		var id string
		last := idAnchors[len(idAnchors)-1]
		if created >= last.t.UnixMilli() {
			id = strconv.FormatUint(uint64(created-twitterEpoch)<<22|uint64(r.intn(1<<22)), 10)
		} else {
			v := idAnchors[0].id
			for k := 1; k < len(idAnchors); k++ {
				a, b := idAnchors[k-1], idAnchors[k]
				if created < b.t.UnixMilli() {
					f := float64(created-a.t.UnixMilli()) / float64(b.t.UnixMilli()-a.t.UnixMilli())
					v = a.id + max(f, 0)*(b.id-a.id)
					break
				}
			}
			id = strconv.FormatInt(int64(v)+int64(r.intn(100000)), 10)
		}
		if !g.usedIDs[id] {
			g.usedIDs[id] = true
			return id
		}
	}
}

func (g *gen) uniqueHandle(r *rng, h string) string {
	for g.usedHandles[h] {
		h = clipHandle(h[:min(len(h), 12)] + strconv.Itoa(r.intn(1000)))
	}
	g.usedHandles[h] = true
	return h
}

// createdOrganic draws a sign-up date with the age mix of active French
// political Twitter in 2017: most accounts several years old, a few new.
func createdOrganic(r *rng, before time.Time) int64 {
	weights := []float64{2, 6, 9, 11, 12, 12, 10, 10, 12, 4} // 2008..2017
	cum := make([]float64, len(weights))
	s := 0.0
	for i, w := range weights {
		s += w
		cum[i] = s
	}
	y := 2008 + r.weighted(cum)
	from := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	to := min(time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(), before.Add(-24*time.Hour).UnixMilli())
	if to <= from {
		from = before.AddDate(-3, 0, 0).UnixMilli()
	}
	return r.between(from, to)
}

func leanWeights(lang string) []float64 {
	// macron, lepen, fillon, melenchon, hamon, none: roughly the
	// second-round electorate as seen on Twitter, where Mélenchon's and
	// Le Pen's supporters were over-represented.
	if lang == "en" {
		return []float64{0.3, 0.2, 0, 0, 0, 0.5}
	}
	return []float64{0.27, 0.24, 0.10, 0.17, 0.06, 0.16}
}

func cumulative(w []float64) []float64 {
	c := make([]float64, len(w))
	s := 0.0
	for i, x := range w {
		s += x
		c[i] = s
	}
	return c
}

// newPerson returns an account with a personal-looking profile.
func (g *gen) newPerson(r *rng, lang string, created int64) *acct {
	first, last := pick(r, firstFR), pick(r, lastFR)
	bios := bioFR
	if lang == "en" {
		first, last, bios = pick(r, firstEN), pick(r, lastEN), bioEN
	}
	a := &acct{
		lang: lang, created: created, net: -1, outlet: -1, lastSnap: -1,
		handle:    g.uniqueHandle(r, handleFrom(r, first, last)),
		name:      first + " " + last,
		followers: int64(r.lognormal(150, 1.4)),
		following: int64(r.lognormal(220, 1.0)),
	}
	a.id = g.accountID(r, created)
	if r.chance(0.75) {
		a.desc = fill(r, pick(r, bios))
	}
	age := float64(g.start-created) / 86400e3
	a.posts = int64(age * r.lognormal(3, 1.2))
	a.defaultProfile = r.chance(0.05) || (age < 120 && r.chance(0.25))
	return a
}

// makeAccounts creates every account: popular ones, organic users, then
// each network's leaders and members.
func (g *gen) makeAccounts() {
	r := newRNG(g.cfg.Seed, "accounts")
	add := func(a *acct) int32 {
		g.accts = append(g.accts, a)
		return int32(len(g.accts) - 1)
	}
	old := func(fromYear, toYear int) int64 {
		return r.between(time.Date(fromYear, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(), time.Date(toYear, 12, 31, 0, 0, 0, 0, time.UTC).UnixMilli())
	}
	for i, o := range outlets {
		a := &acct{handle: o.handle, name: o.name, lang: o.lang, created: old(2008, 2010), verified: true,
			followers: int64(o.pop * r.lognormal(1.2e6, 0.5)), following: int64(r.lognormal(600, 1)),
			lean: noLeaning, rate: 22 * o.pop / 2, role: roleMedia, net: -1, pop: o.pop * 6, outlet: i, lastSnap: -1,
			desc: "Toute l'actualité en continu avec " + o.name}
		if o.lang == "en" {
			a.desc, a.rate = "News and analysis from "+o.name, 6
		}
		a.id = g.accountID(r, a.created)
		a.posts = int64(r.lognormal(150000, 0.6))
		g.usedHandles[a.handle] = true
		add(a)
	}
	for ci, c := range candidates {
		for k, h := range []string{c.handle, c.partyHandle} {
			a := &acct{handle: h, name: c.name, lang: "fr", created: old(2009, 2015), verified: true,
				lean: ci, role: roleCandidate, net: -1, outlet: -1, lastSnap: -1,
				followers: int64(r.lognormal(9e5, 0.6)), following: int64(r.lognormal(800, 1)), rate: 10, pop: 14,
				desc: "Compte officiel de campagne"}
			if k == 1 {
				a.name, a.rate, a.pop, a.followers = h, 8, 5, a.followers/3
			}
			if ci >= 2 { // eliminated in the first round: less followed now
				a.rate, a.pop = a.rate/3, a.pop/3
			}
			a.id = g.accountID(r, a.created)
			a.posts = int64(r.lognormal(12000, 0.5))
			g.usedHandles[h] = true
			add(a)
		}
	}
	for i := range 28 {
		lang := "fr"
		if i%7 == 6 {
			lang = "en"
		}
		a := g.newPerson(r, lang, old(2009, 2015))
		a.lean = r.weighted(cumulative(leanWeights(lang)))
		a.role, a.rate, a.pop = roleInfluencer, r.lognormal(14, 0.4), r.lognormal(3, 0.5)
		a.followers = int64(r.lognormal(40000, 0.8))
		a.verified = r.chance(0.4)
		a.posts = int64(r.lognormal(40000, 0.6))
		add(a)
	}
	sigma := 1.0
	median := g.cfg.PostsPerDay * math.Exp(-sigma*sigma/2)
	for range g.cfg.OrganicUsers {
		lang := "fr"
		if r.chance(g.cfg.EnglishShare) {
			lang = "en"
		}
		a := g.newPerson(r, lang, createdOrganic(r, g.cfg.Start))
		a.lean = r.weighted(cumulative(leanWeights(lang)))
		a.rate = min(r.lognormal(median, sigma), 120)
		add(a)
	}
	for k, n := range g.cfg.Networks {
		g.makeNetworkAccounts(k, n, add)
	}
}

// networkLean is the leaning a network's accounts show in their organic
// posts: the target's side when favouring it, its opponent's otherwise.
func networkLean(n NetworkSpec) int {
	t := candidateIndex(n.Target)
	if n.Stance == StanceFavour {
		return t
	}
	if n.Target == "lepen" || n.Target == "melenchon" || n.Target == "hamon" {
		return 0
	}
	return 1
}

func (g *gen) makeNetworkAccounts(k int, n NetworkSpec, add func(*acct) int32) {
	r := newRNG(g.cfg.Seed, "accounts/"+n.Name)
	lean := networkLean(n)
	for range n.Leaders {
		a := g.newPerson(r, n.Lang, r.between(g.cfg.Start.AddDate(-3, 0, 0).UnixMilli(), g.cfg.Start.AddDate(0, -4, 0).UnixMilli()))
		a.lean, a.role, a.net, a.pop = lean, roleLeader, k, 0.6
		a.followers = int64(r.lognormal(6000, 0.7))
		a.posts = int64(r.lognormal(25000, 0.5))
		g.netLeaders[k] = append(g.netLeaders[k], add(a))
	}
	camo := int(math.Round(float64(n.Size) * n.Camouflage))
	// Mass-created accounts come in batches: a few sign-up sessions in
	// the weeks before the operation, accounts minutes apart.
	batches := 1 + n.Size/15
	batchStart := make([]int64, batches)
	for b := range batchStart {
		if n.Sleeper {
			// Sleepers were made long ago, in the same few sessions,
			// and kept dormant so they look aged.
			batchStart[b] = r.between(n.Start.AddDate(-3, 0, 0).UnixMilli(), n.Start.AddDate(-1, 0, 0).UnixMilli())
			continue
		}
		batchStart[b] = r.between(n.Start.AddDate(0, 0, -90).UnixMilli(), n.Start.AddDate(0, 0, -6).UnixMilli())
	}
	for i := range n.Size {
		var a *acct
		if i < camo {
			a = g.newPerson(r, n.Lang, r.between(time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(), g.cfg.Start.AddDate(-1, 0, 0).UnixMilli()))
			a.camouflage = true
			a.rate = r.lognormal(3, 0.6)
		} else {
			b := (i - camo) % batches
			batchStart[b] += r.between(20_000, 900_000)
			created := batchStart[b]
			first := pick(r, firstFR)
			if n.Lang == "en" {
				first = pick(r, firstEN)
			}
			a = &acct{lang: n.Lang, created: created, lastSnap: -1, outlet: -1,
				handle:         g.uniqueHandle(r, botHandle(r, first)),
				followers:      int64(r.lognormal(25, 0.9)),
				following:      int64(r.lognormal(320, 0.6)),
				defaultProfile: r.chance(0.7),
				desc:           pick(r, bioBot),
				rate:           r.lognormal(0.8, 0.5),
			}
			a.name = a.handle
			if r.chance(0.5) {
				a.name = first + " " + pick(r, []string{"🇫🇷", "", "Patriote", "✌️", ""})
			}
			a.id = g.accountID(r, created)
			a.posts = int64(float64(g.start-created) / 86400e3 * r.lognormal(60, 0.5))
			if n.Sleeper {
				a.posts = int64(r.intn(15)) // a few tweets at sign-up, then silence
				a.followers = int64(r.lognormal(8, 0.8))
				a.from = n.Start.UnixMilli()
			}
		}
		a.lean, a.role, a.net = lean, roleMember, k
		g.netMembers[k] = append(g.netMembers[k], add(a))
	}
}
