package scenario

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"strings"
)

// makeNetwork plants network k: its burst times, who takes part in each
// burst, and the posts. Every tactic makes members repost the same post
// or share the same link within seconds to a minute or two of each other,
// many times over the network's life: the trace of coordination.
func (g *gen) makeNetwork(k int) {
	n := g.cfg.Networks[k]
	r := newRNG(g.cfg.Seed, "network/"+n.Name)
	members, leaders := g.netMembers[k], g.netLeaders[k]
	from := n.Start.UnixMilli()
	to := n.Start.Add(n.Duration).UnixMilli() - n.MaxLag.Milliseconds()
	to = max(to, from+60_000)

	// Operators work office-ish hours too, but flatter than real users:
	// bursts follow the square root of the daily rhythm.
	bursts := make([]int64, n.Bursts)
	flat := newProfile(from, to, func(ms int64) float64 { return math.Sqrt(rhythm(ms)) }, rhythm)
	for i := range bursts {
		bursts[i] = flat.sample(r, from, to)
	}
	slices.Sort(bursts)

	// Who acts in which burst. Each member has their own diligence around
	// the network's participation, and everyone acts at least five times
	// (or in every burst, if there are fewer): a member who never
	// coordinated would not be a member, and one who did it three times
	// would hang on a single edge of weight 3.
	part := make([][]bool, len(bursts))
	rate := make([]float64, len(members))
	speed := make([]float64, len(members))
	for m := range members {
		rate[m] = min(max(n.Participation+0.15*r.norm(), 0.35), 0.98)
		speed[m] = r.lognormal(1, 0.35)
	}
	for b := range bursts {
		part[b] = make([]bool, len(members))
		for m := range members {
			part[b][m] = r.chance(rate[m])
		}
	}
	for m := range members {
		count := 0
		for b := range bursts {
			if part[b][m] {
				count++
			}
		}
		for count < min(5, len(bursts)) {
			if b := r.intn(len(bursts)); !part[b][m] {
				part[b][m] = true
				count++
			}
		}
	}

	net := int16(k)
	lean := networkLean(n)
	texts := plantedTexts(n.Target, n.Stance, n.Lang)
	tags := candidates[candidateIndex(n.Target)].favour
	if n.Stance == StanceSmear {
		tags = candidates[candidateIndex(n.Target)].smear
	}
	maxLag := n.MaxLag.Milliseconds()
	// lag is a member's delay after a burst: a couple of seconds of
	// reaction at least, a member-specific speed, jitter, and never past
	// the network's MaxLag.
	lag := func(m int, median float64) int64 {
		d := int64(2000 + r.lognormal(median*speed[m], 0.6))
		return min(d, maxLag)
	}
	leaderPost := func(t int64, extra string) int32 {
		l := leaders[r.intn(len(leaders))]
		text := fill(r, choose(r, texts, t))
		tl := []string{pick(r, tags)}
		if extra != "" {
			tl = []string{extra}
			if r.chance(0.4) {
				tl = append(tl, pick(r, tags))
			}
		}
		text, _ = withLink(r, text, tl, "")
		return g.add(event{ms: t, author: l, ref: -1, net: net, lang: n.Lang, text: text})
	}

	switch n.Tactic {
	case RepostRing:
		for b, t := range bursts {
			// A ring mostly amplifies its own leaders, and now and then a
			// friendly popular account, to ride its reach.
			seed := int32(-1)
			if r.chance(0.25) {
				seed = g.friendlyPopular(lean, n.Lang, t, t+2*3600_000)
			}
			if seed < 0 {
				seed = leaderPost(t, "")
			}
			st := g.events[seed].ms
			for m, a := range members {
				if part[b][m] {
					g.addRetweet(a, seed, st+lag(m, 15_000), net)
				}
			}
		}
	case HashtagPush:
		for b, t := range bursts {
			seed := leaderPost(t, n.Hashtag)
			g.popular = append(g.popular, seed) // real users pick some of it up
			g.popW = append(g.popW, g.accts[g.events[seed].author].pop*g.grow(t, popularTau))
			for m, a := range members {
				if !part[b][m] {
					continue
				}
				g.addRetweet(a, seed, t+lag(m, 10_000), net)
				if r.chance(0.35) {
					// Their own posts with the tag, minutes later: the
					// volume that makes it trend.
					own := fill(r, choose(r, texts, t))
					if r.chance(0.5) {
						own = pick(r, plantedComments[n.Lang])
					}
					text, _ := withLink(r, own, []string{n.Hashtag}, "")
					g.add(event{ms: min(t+r.between(30_000, 900_000), g.end-1), author: a, ref: -1, net: net, lang: n.Lang, text: text})
				}
			}
		}
	case CopyPaste:
		for b, t := range bursts {
			base := fill(r, choose(r, texts, t))
			url := g.uniqueURL(fringeURL(pick(r, n.Domains), base, t))
			g.fringe = append(g.fringe, article{ms: t, url: url, lang: n.Lang, lean: lean})
			tag := pick(r, tags)
			for m, a := range members {
				if !part[b][m] {
					continue
				}
				text := mutate(r, base)
				var tl []string
				if r.chance(0.5) {
					tl = []string{tag}
				}
				text, urls := withLink(r, text, tl, url)
				g.add(event{ms: t + r.between(0, maxLag), author: a, ref: -1, net: net, lang: n.Lang, text: text, urls: urls})
			}
		}
	case LinkPush:
		for b, t := range bursts {
			title := fill(r, choose(r, texts, t))
			url := g.uniqueURL(fringeURL(pick(r, n.Domains), title, t))
			g.fringe = append(g.fringe, article{ms: t, url: url, lang: n.Lang, lean: lean})
			for m, a := range members {
				if !part[b][m] {
					continue
				}
				// Each member words it their own way.
				var text string
				switch r.intn(3) {
				case 0:
					text = pick(r, plantedComments[n.Lang]) + " : " + title
				case 1:
					text = title
				default:
					text = pick(r, plantedComments[n.Lang])
				}
				var tl []string
				if r.chance(0.4) {
					tl = []string{pick(r, tags)}
				}
				text, urls := withLink(r, text, tl, url)
				g.add(event{ms: t + lag(m, 30_000), author: a, ref: -1, net: net, lang: n.Lang, text: text, urls: urls})
			}
		}
	case SlowPush:
		// Each seed is reposted over MaxLag, members spread evenly over
		// it: no burst of seconds, just the same posts taken up by the
		// same accounts every few hours.
		for b, t := range bursts {
			seed := leaderPost(t, "")
			st := g.events[seed].ms
			for m, a := range members {
				if part[b][m] {
					g.addRetweet(a, seed, st+2000+r.between(0, maxLag), net)
				}
			}
		}
	case ReplyBrigade:
		// The brigade piles into the reply section of the target's own
		// posts: bursts are the target's posts nearest each burst time.
		var seeds []int32
		ti := candidateIndex(n.Target)
		for _, e := range g.popular {
			ev := &g.events[e]
			if a := g.accts[ev.author]; a.role == roleCandidate && a.lean == ti && ev.ms >= from && ev.ms < to && ev.kind == kOriginal {
				seeds = append(seeds, e)
			}
		}
		slices.SortFunc(seeds, func(a, b int32) int { return cmp.Or(cmp.Compare(g.events[a].ms, g.events[b].ms), cmp.Compare(a, b)) })
		used := map[int32]bool{}
		for b, t := range bursts {
			if len(seeds) == 0 {
				break
			}
			i := sort.Search(len(seeds), func(i int) bool { return g.events[seeds[i]].ms >= t })
			for i < len(seeds) && used[seeds[i]] {
				i++
			}
			if i == len(seeds) {
				continue
			}
			seed := seeds[i]
			used[seed] = true
			st := g.events[seed].ms
			handle := g.accts[g.events[seed].author].handle
			base := fill(r, choose(r, texts, st))
			for m, a := range members {
				if !part[b][m] {
					continue
				}
				var line string
				switch r.intn(3) {
				case 0:
					line = mutate(r, base)
				case 1:
					line = pick(r, plantedComments[n.Lang])
				default:
					line = fill(r, choose(r, texts, st))
				}
				text, _ := withLink(r, "@"+handle+" "+line, []string{n.Hashtag}, "")
				if ms := st + lag(m, 25_000); ms < g.end {
					g.add(event{ms: ms, author: a, ref: seed, kind: kReply, net: net, lang: n.Lang, text: text})
				}
			}
		}
	}
	slices.SortStableFunc(g.fringe, func(a, b article) int { return cmp.Compare(a.ms, b.ms) })
}

// friendlyPopular returns the first popular post in [from, to) by a
// candidate or influencer of the given leaning and language, or -1.
func (g *gen) friendlyPopular(lean int, lang string, from, to int64) int32 {
	i := sort.Search(len(g.popular), func(i int) bool { return g.events[g.popular[i]].ms >= from })
	for ; i < len(g.popular) && g.events[g.popular[i]].ms < to; i++ {
		e := &g.events[g.popular[i]]
		a := g.accts[e.author]
		if (a.role == roleCandidate || a.role == roleInfluencer) && a.lean == lean && e.lang == lang && !strings.HasPrefix(e.text, "RT ") {
			return g.popular[i]
		}
	}
	return -1
}
