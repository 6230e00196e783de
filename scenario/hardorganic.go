package scenario

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"
)

// The hard organic cases: genuine behaviour that looks like coordination
// to a co-action detector. Cascades (generate.go) are one; news bots and
// breaking-news bursts are the others. Both are off by default
// (Config.NewsBots, Config.BreakingNews) and draw from their own random
// streams, so enabling them changes nothing else in the scenario.

var (
	newsBotNames = []string{"Actu Politique", "Info Direct", "Flash Actu", "Veille Presse", "Revue de presse", "France Actu", "Le Fil Info", "Politique Live", "Actu en continu", "Presse Hexagone"}
	newsBotBios  = []string{"Les titres de la presse, en temps réel. Compte automatique.", "Bot. Agrège les flux RSS des grands médias.", "Toute l'actualité politique, automatiquement.", "Revue de presse automatisée. Pas de DM."}
	newsBotHeads = []string{"", "📰 ", "[Actu] ", "🔴 ", "INFO - "}
)

// makeNewsBots creates the news aggregators and their posts. Each bot
// reads two to five outlets' feeds, polls them at its own fixed period
// (one to ten minutes) and posts every new article a few seconds after
// the poll that finds it, with the article's title and link. Two bots
// reading the same outlet share its links within a minute of each other
// whenever their polls happen to line up, hundreds of times over four
// days: as much co-linking as a planted network, with no coordination.
func (g *gen) makeNewsBots() {
	if g.cfg.NewsBots == 0 {
		return
	}
	r := newRNG(g.cfg.Seed, "newsbots")
	// The outlets' articles, by outlet, in time order.
	byOutlet := make([][]int32, len(outlets))
	for i := range g.events {
		e := &g.events[i]
		if a := g.accts[e.author]; a.role == roleMedia && e.kind == kOriginal && len(e.urls) > 0 {
			byOutlet[a.outlet] = append(byOutlet[a.outlet], int32(i))
		}
	}
	var frPop []float64
	for _, o := range outlets {
		w := o.pop
		if o.lang != "fr" {
			w = 0
		}
		frPop = append(frPop, w)
	}
	cum := cumulative(frPop)
	nEvents := len(g.events)
	for b := range g.cfg.NewsBots {
		created := r.between(time.Date(2012, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(), time.Date(2016, 6, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
		name := newsBotNames[b%len(newsBotNames)]
		a := &acct{lang: "fr", created: created, lastSnap: -1, outlet: -1, net: -1, lean: noLeaning, role: roleNewsBot,
			name:      name,
			handle:    g.uniqueHandle(r, clipHandle(strings.ReplaceAll(asciiName(name), " ", "")+"_"+pick(r, []string{"FR", "Bot", "Fil", "Info"}))),
			desc:      pick(r, newsBotBios),
			followers: int64(r.lognormal(900, 1.0)),
			following: int64(r.lognormal(40, 0.6)),
		}
		a.id = g.accountID(r, created)
		a.posts = int64(float64(g.start-created) / 86400e3 * r.lognormal(80, 0.4))
		g.accts = append(g.accts, a)
		idx := int32(len(g.accts) - 1)
		g.newsBots = append(g.newsBots, idx)

		period := r.between(60_000, 600_000)
		phase := r.between(0, period-1)
		head := pick(r, newsBotHeads)
		follows := map[int]bool{}
		for k := 2 + r.intn(4); len(follows) < k; {
			follows[r.weighted(cum)] = true
		}
		for o := range outlets {
			if !follows[o] {
				continue
			}
			for _, ei := range byOutlet[o] {
				if ei >= int32(nEvents) {
					continue
				}
				e := g.events[ei]
				// Next poll after the article, then a few seconds of work.
				tick := e.ms + period - ((e.ms-g.start-phase)%period+period)%period
				ms := tick + r.between(1_000, 15_000)
				if ms >= g.end {
					continue
				}
				title := e.text
				if i := strings.Index(title, " https://t.co/"); i >= 0 {
					title = title[:i]
				}
				text, urls := withLink(r, head+title, nil, e.urls[0])
				g.add(event{ms: ms, author: idx, ref: -1, net: -1, lang: "fr", text: text, urls: urls})
			}
		}
	}
}

var (
	breakingHeadlines = []string{
		"URGENT - Coups de feu à {city}, un important dispositif policier déployé",
		"URGENT - Évacuation en cours d'une gare de {city} après une alerte",
		"URGENT - Le meeting de {city} interrompu par un incident",
		"URGENT - Panne géante : des milliers d'usagers bloqués à {city}",
		"URGENT - Une explosion entendue dans le centre de {city}",
		"URGENT - Le Conseil constitutionnel saisi en urgence sur le scrutin",
	}
	breakingTags      = []string{"DernièreMinute", "Urgent", "BreakingNews", "Alerte"}
	breakingReactions = []string{"Oh mon dieu", "Je suis à côté, c'est la panique", "Restez prudents", "Pensées pour {city}", "Quelqu'un a des infos ?", "Incroyable", "On en sait plus ?", "Ça commence", "😨", "Partagez l'info"}
)

// makeBreakingNews makes the breaking-news bursts: an outlet posts a
// breaking story and within minutes BreakingSize organic users (median)
// share its link with the story's hashtag or retweet the outlet, most in
// the first five minutes. Far more users co-share within seconds than in
// a cascade, but each pair of them only once per story.
func (g *gen) makeBreakingNews() {
	if g.cfg.BreakingNews == 0 {
		return
	}
	r := newRNG(g.cfg.Seed, "breaking")
	media := map[int]int32{}
	var frPop []float64
	for i, a := range g.accts {
		if a.role == roleMedia {
			media[a.outlet] = int32(i)
		}
	}
	for _, o := range outlets {
		w := o.pop
		if o.lang != "fr" {
			w = 0
		}
		frPop = append(frPop, w)
	}
	cum := cumulative(frPop)
	var eligible []int32
	for i, a := range g.accts {
		if a.role == roleUser && a.lang == "fr" && a.from == 0 {
			eligible = append(eligible, int32(i))
		}
	}
	if len(eligible) < 10 {
		return
	}
	type keyed struct {
		key float64
		a   int32
	}
	keys := make([]keyed, len(eligible))
	for range g.cfg.BreakingNews {
		t := g.prof.sample(r, g.start, max(g.start+1, g.end-3600_000))
		o := r.weighted(cum)
		outletIdx, ok := media[o]
		if !ok {
			continue
		}
		headline := fill(r, pick(r, breakingHeadlines))
		tag := pick(r, breakingTags)
		url := g.uniqueURL(articleURL(r, outlets[o].domain, headline, t))
		text, urls := withLink(r, headline, []string{tag}, url)
		seed := g.add(event{ms: t, author: outletIdx, ref: -1, net: -1, lang: "fr", text: text, urls: urls})
		bk := TruthBreaking{URL: url, Hashtag: tag, Time: timeOf(t).Truncate(time.Second), Posts: 1}
		size := min(int(r.lognormal(float64(g.cfg.BreakingSize), 0.4)), len(eligible)/2)
		for i, u := range eligible {
			w := math.Pow(g.accts[u].rate+0.5, 0.5)
			keys[i] = keyed{math.Log(1-r.float()) / w, u}
		}
		slices.SortFunc(keys, func(a, b keyed) int { return cmp.Or(cmp.Compare(b.key, a.key), cmp.Compare(a.a, b.a)) })
		for _, k := range keys[:size] {
			delay := int64(15_000 + r.lognormal(4*60e3, 0.9))
			ms := t + min(delay, 45*60_000)
			if ms >= g.end {
				continue
			}
			if r.chance(0.35) {
				if g.addRetweet(k.a, seed, ms, -1) {
					bk.Posts++
				}
				continue
			}
			line := fill(r, pick(r, breakingReactions))
			text, urls := withLink(r, line, []string{tag}, url)
			g.add(event{ms: ms, author: k.a, ref: -1, net: -1, lang: "fr", text: text, urls: urls})
			bk.Posts++
		}
		g.breaking = append(g.breaking, bk)
	}
	slices.SortStableFunc(g.breaking, func(a, b TruthBreaking) int { return a.Time.Compare(b.Time) })
}
