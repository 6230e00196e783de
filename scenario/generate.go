package scenario

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/vigie-osint/vigie/post"
)

type kind uint8

const (
	kOriginal kind = iota
	kRetweet
	kReply
	kQuote
)

// event is a post before it has an ID: posts are created out of time
// order (account by account, network by network) and numbered once
// sorted, so that IDs grow with time as Twitter's do. ref is the index of
// the retweeted, replied-to or quoted event.
type event struct {
	ms     int64
	author int32
	ref    int32
	kind   kind
	net    int16 // planted network of a coordinated post, -1 otherwise
	lang   string
	text   string
	urls   []string
}

// article is a link organic users may share. w includes the recency
// growth (see grow).
type article struct {
	ms   int64
	url  string
	w    float64
	lang string
	lean int
}

// Recency of what users retweet and share: weights decay with these time
// constants as posts and articles age.
const (
	popularTau = 2 * time.Hour
	articleTau = 3 * time.Hour
)

// grow returns exp((ms-start)/tau). Choosing among recent items with
// weight w*exp(-(now-ms)/tau) is choosing with weight w*grow(ms), as the
// factor exp(-(now-start)/tau) is common to all: precomputing it spares
// an exp per candidate per draw, most of the generator's time. Over the
// longest scenario (31 days) it stays below 1e162, far from overflow.
func (g *gen) grow(ms int64, tau time.Duration) float64 {
	return math.Exp(float64(ms-g.start) / float64(tau.Milliseconds()))
}

type gen struct {
	cfg        Config
	start, end int64
	prof       *profile

	accts                  []*acct
	events                 []event
	usedIDs, usedHandles   map[string]bool
	usedURLs               map[string]bool
	netMembers, netLeaders [][]int32

	popular   []int32   // events organic users retweet, reply to and quote, by time
	popW      []float64 // their weight times grow(ms, popularTau), before affinity
	articles  []article // news links, by time
	fringe    []article // fringe links pushed by networks, by time
	organic   []int32   // organic original events, by time
	retweeted map[[2]int32]bool
	cascades  []int32
	newsBots  []int32         // news aggregator accounts
	breaking  []TruthBreaking // breaking-news bursts, by time
	buf       []float64
}

// Generate builds the scenario described by cfg and passes its posts to
// fn in non-decreasing time order, stopping at fn's first error. The same
// cfg always yields the same posts. The returned Truth lists the planted
// networks.
func Generate(cfg Config, fn func(*post.Post) error) (Truth, error) {
	cfg, err := cfg.resolve()
	if err != nil {
		return Truth{}, err
	}
	g := &gen{
		cfg:         cfg,
		start:       cfg.Start.UnixMilli(),
		end:         cfg.Start.Add(cfg.Duration).UnixMilli(),
		usedIDs:     map[string]bool{},
		usedHandles: map[string]bool{},
		usedURLs:    map[string]bool{},
		retweeted:   map[[2]int32]bool{},
		netMembers:  make([][]int32, len(cfg.Networks)),
		netLeaders:  make([][]int32, len(cfg.Networks)),
	}
	g.prof = newProfile(g.start, g.end, func(ms int64) float64 { return rhythm(ms) * boost(ms) }, rhythm)
	g.makeAccounts()
	g.popularPosts()
	for k := range cfg.Networks {
		g.makeNetwork(k)
	}
	g.sortPopular()
	g.organicActivity()
	g.makeCascades()
	// The hard organic cases draw from their own streams and come last,
	// so a scenario without them is exactly what it was before they
	// existed.
	g.makeNewsBots()
	g.makeBreakingNews()
	return g.emit(fn)
}

func (g *gen) add(e event) int32 {
	g.events = append(g.events, e)
	return int32(len(g.events) - 1)
}

// addRetweet records author retweeting target at ms, unless it falls
// outside the scenario, precedes the target or repeats a retweet (Twitter
// allows one per account and post).
func (g *gen) addRetweet(author, target int32, ms int64, net int16) bool {
	k := [2]int32{author, target}
	if ms >= g.end || ms <= g.events[target].ms || g.retweeted[k] || g.events[target].author == author {
		return false
	}
	g.retweeted[k] = true
	g.add(event{ms: ms, author: author, ref: target, kind: kRetweet, net: net, lang: g.events[target].lang})
	return true
}

// tco returns a t.co short link: Twitter wraps every link in a post's
// text, while the post's URL list carries the expanded address.
func tco(r *rng) string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := []byte("https://t.co/")
	for range 10 {
		b = append(b, alphabet[r.intn(len(alphabet))])
	}
	return string(b)
}

// withLink appends tags and a link to text within 140 characters, t.co
// links counting 23 as on Twitter.
func withLink(r *rng, text string, tags []string, url string) (string, []string) {
	for _, t := range tags {
		if utf8.RuneCountInString(text)+len(t)+2 <= 140-24 || url == "" && utf8.RuneCountInString(text)+len(t)+2 <= 140 {
			text += " #" + t
		}
	}
	if url == "" {
		return fit(text), nil
	}
	return fit(text) + " " + tco(r), []string{url}
}

func affinity(user, author int) float64 {
	switch {
	case author == noLeaning:
		return 1
	case user == author:
		return 3
	case user == noLeaning:
		return 0.6
	}
	return 0.25
}

func langMatch(a, b string) float64 {
	if a == b {
		return 1
	}
	return 0.08
}

// window returns the index range of times (sorted) in [from, to).
func window(n int, at func(int) int64, from, to int64) (int, int) {
	lo := sort.Search(n, func(i int) bool { return at(i) >= from })
	hi := sort.Search(n, func(i int) bool { return at(i) >= to })
	return lo, hi
}

// pickArticle returns a recent news link for a user of lang and lean at
// ms, favouring big outlets, hot stories and fresh ones; "" if none.
func (g *gen) pickArticle(r *rng, ms int64, lang string, lean int) string {
	lo, hi := window(len(g.articles), func(i int) int64 { return g.articles[i].ms }, ms-12*3600_000, ms-30_000)
	if lo >= hi {
		return ""
	}
	g.buf = g.buf[:0]
	s := 0.0
	for _, a := range g.articles[lo:hi] {
		s += a.w * langMatch(lang, a.lang) * affinity(lean, a.lean)
		g.buf = append(g.buf, s)
	}
	if i := r.weighted(g.buf); i >= 0 {
		return g.articles[lo+i].url
	}
	return ""
}

// pickPopular returns a recent popular post for the account to retweet,
// reply to or quote at ms, or -1.
func (g *gen) pickPopular(r *rng, ms int64, a *acct) int32 {
	lo, hi := window(len(g.popular), func(i int) int64 { return g.events[g.popular[i]].ms }, ms-8*3600_000, ms-2000)
	if lo >= hi {
		return -1
	}
	g.buf = g.buf[:0]
	s := 0.0
	for i, e := range g.popular[lo:hi] {
		ev := &g.events[e]
		au := g.accts[ev.author]
		s += g.popW[lo+i] * affinity(a.lean, au.lean) * langMatch(a.lang, ev.lang)
		g.buf = append(g.buf, s)
	}
	if i := r.weighted(g.buf); i >= 0 {
		return g.popular[lo+i]
	}
	return -1
}

var properStarts = []string{"Macron", "Marine", "Le Pen", "Emmanuel", "Mélenchon", "Jean-Luc", "Fillon", "François", "Hamon", "Benoît", "Hollande", "Dupont", "Sens", "Ni ", "@", "#", "L'", "La France"}

func lowerFirst(s string) string {
	for _, p := range properStarts {
		if strings.HasPrefix(s, p) {
			return s
		}
	}
	c, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(c)) + s[n:]
}

// compose writes an organic original post for a at ms.
func (g *gen) compose(r *rng, a *acct, ms int64) (string, []string) {
	tpls := organicFR
	if a.lang == "en" {
		tpls = organicEN
	}
	tpl := choose(r, tpls[a.lean], ms)
	if tpl == "" || r.chance(0.2) {
		tpl = choose(r, tpls[noLeaning], ms)
	}
	text := fill(r, tpl)
	if a.lang == "fr" && r.chance(0.15) {
		text = fill(r, pick(r, openersFR)) + lowerFirst(text)
	}
	if r.chance(0.12) {
		text += " " + pick(r, slots["emoji"])
	}
	url := ""
	if r.chance(g.cfg.LinkShare) {
		if r.chance(0.08) && len(g.fringe) > 0 {
			url = g.pickFringe(r, ms, a.lean)
		}
		if url == "" {
			url = g.pickArticle(r, ms, a.lang, a.lean)
		}
	}
	var tags []string
	all := tagsFor(a.lean, a.lang, ms)
	for range 2 {
		if r.chance(0.35) {
			t := pick(r, all)
			if !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
	}
	return withLink(r, text, tags, url)
}

// pickFringe returns a fringe link already pushed by a network of the
// same leaning, hours ago: the real users a push manages to reach.
func (g *gen) pickFringe(r *rng, ms int64, lean int) string {
	lo, hi := window(len(g.fringe), func(i int) int64 { return g.fringe[i].ms }, ms-36*3600_000, ms-3600_000)
	var c []string
	for _, f := range g.fringe[lo:hi] {
		if f.lean == lean {
			c = append(c, f.url)
		}
	}
	if len(c) == 0 {
		return ""
	}
	return pick(r, c)
}

var candidateLines = []string{
	"Merci {city} ! Quelle énergie ce soir.",
	"camp|Retrouvez-moi ce soir à 20h, invité du journal.",
	"camp|Le 7 mai, choisissons l'avenir de la France.",
	"debate|Le débat commence. Suivez-le en direct.",
	"camp|Mobilisation générale jusqu'à dimanche !",
	"Chaque voix comptera dimanche.",
	"camp|Grand meeting à {city} : merci à tous d'être venus.",
}

var eliminatedLines = []string{
	"Merci aux militants pour cette campagne.", "Rendez-vous aux législatives.", "Le combat continue.",
	"Sur {topic}, nos propositions restent sur la table.",
}

// popularPosts schedules the posts of media, candidates and influencers:
// the posts organic users retweet, and the news links they share.
func (g *gen) popularPosts() {
	r := newRNG(g.cfg.Seed, "popular")
	reserve := reserveStart.UnixMilli()
	type slot struct {
		a  int32
		ms int64
	}
	var media, others []slot
	for i, a := range g.accts {
		if a.role != roleMedia && a.role != roleCandidate && a.role != roleInfluencer {
			continue
		}
		to := g.end
		if a.role == roleCandidate && reserve > g.start && reserve < to {
			to = reserve // French law: no campaigning on the eve of the vote
		}
		n := r.poisson(a.rate * g.prof.days(g.start, to))
		for range n {
			s := slot{int32(i), g.prof.sample(r, g.start, to)}
			if a.role == roleMedia {
				media = append(media, s)
			} else {
				others = append(others, s)
			}
		}
	}
	bySlot := func(a, b slot) int { return cmp.Or(cmp.Compare(a.ms, b.ms), cmp.Compare(a.a, b.a)) }
	slices.SortStableFunc(media, bySlot)
	slices.SortStableFunc(others, bySlot)
	for _, s := range media {
		a := g.accts[s.a]
		o := outlets[a.outlet]
		titles := titlesFR
		if o.lang == "en" {
			titles = titlesEN
		}
		title := fill(r, choose(r, titles, s.ms))
		url := g.uniqueURL(articleURL(r, o.domain, title, s.ms))
		hot := r.lognormal(1, 1)
		text, urls := withLink(r, title, nil, url)
		e := g.add(event{ms: s.ms, author: s.a, ref: -1, net: -1, lang: o.lang, text: text, urls: urls})
		g.articles = append(g.articles, article{ms: s.ms, url: url, w: o.pop * hot * g.grow(s.ms, articleTau), lang: o.lang, lean: noLeaning})
		g.popular = append(g.popular, e)
		g.popW = append(g.popW, a.pop*hot*g.grow(s.ms, popularTau))
	}
	// Campaign-site links join the news links once all are made, so the
	// list influencers pick from below stays sorted by time.
	var sites []article
	for _, s := range others {
		a := g.accts[s.a]
		var text string
		var urls []string
		if a.role == roleCandidate {
			c := candidates[a.lean]
			lines := candidateLines
			if a.lean >= 2 {
				lines = eliminatedLines
			}
			line := fill(r, choose(r, lines, s.ms))
			url := ""
			if r.chance(0.25) {
				topic := pick(r, slots["Topic"])
				line = "Notre projet : " + lowerFirst(topic) + "."
				url = g.uniqueURL("https://" + c.site + "/" + slugify("projet "+topic+" "+strconv.Itoa(r.intn(100))))
				sites = append(sites, article{ms: s.ms, url: url, w: 1.5 * g.grow(s.ms, articleTau), lang: "fr", lean: a.lean})
			}
			text, urls = withLink(r, line, []string{c.favour[0]}, url)
		} else {
			text, urls = g.compose(r, a, s.ms)
		}
		e := g.add(event{ms: s.ms, author: s.a, ref: -1, net: -1, lang: a.lang, text: text, urls: urls})
		g.popular = append(g.popular, e)
		g.popW = append(g.popW, a.pop*r.lognormal(1, 0.8)*g.grow(s.ms, popularTau))
	}
	g.articles = append(g.articles, sites...)
	g.sortPopular()
	slices.SortStableFunc(g.articles, func(a, b article) int { return cmp.Compare(a.ms, b.ms) })
}

func (g *gen) sortPopular() {
	idx := make([]int, len(g.popular))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		return cmp.Or(cmp.Compare(g.events[g.popular[a]].ms, g.events[g.popular[b]].ms), cmp.Compare(g.popular[a], g.popular[b]))
	})
	p, w := make([]int32, len(idx)), make([]float64, len(idx))
	for i, j := range idx {
		p[i], w[i] = g.popular[j], g.popW[j]
	}
	g.popular, g.popW = p, w
}

// uniqueURL makes a link unique the way WordPress does, with -2, -3...
func (g *gen) uniqueURL(u string) string {
	base := u
	for k := 2; g.usedURLs[u]; k++ {
		if strings.HasSuffix(base, "/") {
			u = strings.TrimSuffix(base, "/") + "-" + strconv.Itoa(k) + "/"
		} else {
			u = base + "-" + strconv.Itoa(k)
		}
	}
	g.usedURLs[u] = true
	return u
}

var (
	repliesFR = []string{"Tout à fait d'accord.", "N'importe quoi.", "Source ?", "Exactement.", "Vous avez lu le programme ?", "Et sur {topic}, on en parle ?", "😂😂", "Merci pour ce rappel.", "Propagande.", "Bien dit !", "C'est faux.", "Pas si simple.", "On verra {day}.", "Honteux.", "Enfin quelqu'un qui le dit."}
	repliesEN = []string{"Exactly.", "Source?", "Not so simple.", "Well said.", "Nonsense.", "This.", "We'll see on Sunday."}
	quotesFR  = []string{"Lisez ça.", "Incroyable.", "Voilà.", "Tout est dit.", "{feel}", "Pas d'accord du tout.", "À méditer.", "Et ça passe crème...", "Le niveau du débat {day}...", "😡"}
	quotesEN  = []string{"Read this.", "Incredible.", "Wow.", "Worth reading.", "This is how it ends."}
)

// organicActivity schedules the ordinary posts of organic users and of
// planted members when they are not coordinating: originals first, then
// retweets, replies and quotes of what was posted before them.
func (g *gen) organicActivity() {
	r := newRNG(g.cfg.Seed, "organic")
	type pending struct {
		author int32
		ms     int64
		k      kind
	}
	var todo []pending
	c := g.cfg
	for i, a := range g.accts {
		if a.role != roleUser && a.role != roleMember || a.rate <= 0 {
			continue
		}
		from := max(a.from, g.start) // sleepers post nothing before they wake
		n := r.poisson(a.rate * g.prof.days(from, g.end))
		rt, rp, qt := c.RetweetShare, c.ReplyShare, c.QuoteShare
		if a.role == roleMember && !a.camouflage {
			rt, rp, qt = 0.8, 0.02, 0.03 // bots mostly retweet between bursts
		}
		for range n {
			ms := g.prof.sample(r, from, g.end)
			switch u := r.float(); {
			case u < rt:
				todo = append(todo, pending{int32(i), ms, kRetweet})
			case u < rt+rp:
				todo = append(todo, pending{int32(i), ms, kReply})
			case u < rt+rp+qt:
				todo = append(todo, pending{int32(i), ms, kQuote})
			default:
				text, urls := g.compose(r, a, ms)
				e := g.add(event{ms: ms, author: int32(i), ref: -1, net: -1, lang: a.lang, text: text, urls: urls})
				if a.role == roleUser {
					g.organic = append(g.organic, e)
				}
			}
		}
	}
	slices.SortStableFunc(g.organic, func(a, b int32) int {
		return cmp.Or(cmp.Compare(g.events[a].ms, g.events[b].ms), cmp.Compare(a, b))
	})
	for _, p := range todo {
		a := g.accts[p.author]
		// Popular accounts draw most of the engagement; the rest goes to
		// the people one follows, modelled as any recent organic post.
		popShare := map[kind]float64{kRetweet: 0.7, kReply: 0.55, kQuote: 0.6}[p.k]
		var target int32 = -1
		if r.chance(popShare) {
			target = g.pickPopular(r, p.ms, a)
		} else {
			lo, hi := window(len(g.organic), func(i int) int64 { return g.events[g.organic[i]].ms }, p.ms-6*3600_000, p.ms-2000)
			// People mostly follow people who write in their language.
			for try := 0; lo < hi && try < 3 && (target < 0 || g.events[target].lang != a.lang); try++ {
				target = g.organic[lo+r.intn(hi-lo)]
			}
		}
		if target < 0 {
			continue
		}
		switch p.k {
		case kRetweet:
			g.addRetweet(p.author, target, p.ms, -1)
		case kReply:
			lines := repliesFR
			if a.lang == "en" {
				lines = repliesEN
			}
			text := "@" + g.accts[g.events[target].author].handle + " " + fill(r, pick(r, lines))
			g.add(event{ms: p.ms, author: p.author, ref: target, kind: kReply, net: -1, lang: a.lang, text: fit(text)})
		case kQuote:
			lines := quotesFR
			if a.lang == "en" {
				lines = quotesEN
			}
			text := fill(r, pick(r, lines))
			if r.chance(0.4) {
				text, _ = g.compose(r, a, p.ms)
				if i := strings.Index(text, " https://t.co/"); i >= 0 {
					text = text[:i]
				}
			}
			g.add(event{ms: p.ms, author: p.author, ref: target, kind: kQuote, net: -1, lang: a.lang, text: fit(text)})
		}
	}
}

// makeCascades makes viral posts: a popular post, or now and then an
// ordinary user's, retweeted by hundreds of organic users within minutes
// to hours, most of them fans of the author's side. Their retweets bunch
// up in the first minutes, so many pairs of genuine users co-retweet
// within seconds: the hard negative a coordination detector must survive.
func (g *gen) makeCascades() {
	r := newRNG(g.cfg.Seed, "cascades")
	n := int(math.Round(g.cfg.CascadesPerDay * float64(g.end-g.start) / 86400e3))
	var eligible []int32
	for i, a := range g.accts {
		if a.role == roleUser || a.camouflage {
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
	seen := map[int32]bool{}
	for range n {
		t := g.prof.sample(r, g.start, max(g.start+1, g.end-2*3600_000))
		var seed int32 = -1
		if r.chance(0.8) {
			for i := sort.Search(len(g.popular), func(i int) bool { return g.events[g.popular[i]].ms >= t }); i < len(g.popular); i++ {
				if e := g.popular[i]; g.accts[g.events[e].author].role != roleLeader {
					seed = e
					break
				}
			}
		} else if i := sort.Search(len(g.organic), func(i int) bool { return g.events[g.organic[i]].ms >= t }); i < len(g.organic) {
			seed = g.organic[i]
		}
		if seed < 0 || seen[seed] {
			continue
		}
		seen[seed] = true
		g.cascades = append(g.cascades, seed)
		se := g.events[seed]
		author := g.accts[se.author]
		size := min(int(r.lognormal(float64(g.cfg.CascadeSize), 0.45)), len(eligible)/3)
		// Weighted sampling without replacement (Efraimidis-Spirakis):
		// fans of the author's side, in its language, a little more
		// likely when they are more active.
		for i, u := range eligible {
			a := g.accts[u]
			w := affinity(a.lean, author.lean) * langMatch(a.lang, se.lang) * math.Pow(a.rate+0.5, 0.3)
			keys[i] = keyed{math.Log(1-r.float()) / w, u}
		}
		slices.SortFunc(keys, func(a, b keyed) int { return cmp.Or(cmp.Compare(b.key, a.key), cmp.Compare(a.a, b.a)) })
		for _, k := range keys[:size] {
			delay := int64(r.lognormal(40*60e3, 1.1))
			delay = min(max(delay, 8_000), 18*3600_000)
			g.addRetweet(k.a, seed, se.ms+delay, -1)
		}
	}
}

// emit sorts the events by time, numbers them like tweets and passes them
// to fn.
func (g *gen) emit(fn func(*post.Post) error) (Truth, error) {
	order := make([]int32, len(g.events))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		return cmp.Or(cmp.Compare(g.events[a].ms, g.events[b].ms), cmp.Compare(a, b))
	})
	// Snowflake IDs: milliseconds since Twitter's epoch, then a sequence
	// within the millisecond and a worker number, so IDs are unique and
	// grow strictly in stream order.
	ids := make([]string, len(g.events))
	r := newRNG(g.cfg.Seed, "ids")
	prev, seq := int64(-1), int64(0)
	for _, i := range order {
		ms := g.events[i].ms
		if ms == prev {
			seq++
		} else {
			prev, seq = ms, 0
		}
		if seq >= 1024 || ms < twitterEpoch {
			return Truth{}, fmt.Errorf("scenario: cannot number post at %d ms", ms)
		}
		ids[i] = strconv.FormatInt((ms-twitterEpoch)<<22|seq<<12|int64(r.intn(1024)), 10)
	}

	nets := make([]TruthNetwork, len(g.cfg.Networks))
	for k, n := range g.cfg.Networks {
		nets[k] = TruthNetwork{Name: n.Name, Tactic: string(n.Tactic), Target: n.Target, Stance: n.Stance, Lang: n.Lang, Sleeper: n.Sleeper}
		for _, m := range g.netMembers[k] {
			nets[k].Members = append(nets[k].Members, string(post.PlatformTwitter)+":"+g.accts[m].id)
		}
		for _, m := range g.netLeaders[k] {
			nets[k].Leaders = append(nets[k].Leaders, string(post.PlatformTwitter)+":"+g.accts[m].id)
		}
		slices.Sort(nets[k].Members)
		slices.Sort(nets[k].Leaders)
	}
	snap := g.cfg.SnapshotEvery.Milliseconds()
	emitted := 0
	for _, i := range order {
		e := &g.events[i]
		a := g.accts[e.author]
		p := &post.Post{
			Schema:   post.SchemaVersion,
			Platform: post.PlatformTwitter,
			ID:       ids[i],
			Author:   a.id,
			Time:     time.UnixMilli(e.ms).UTC().Truncate(time.Second),
			Text:     e.text,
			Lang:     e.lang,
			URLs:     e.urls,
		}
		if e.ref >= 0 {
			t := &g.events[e.ref]
			if t.ms >= e.ms {
				return Truth{}, errors.New("scenario: internal error: reference to a later post")
			}
			switch e.kind {
			case kRetweet:
				// A retweet points at its original; it carries the
				// original's text and entities but not its links, which
				// the original already shares: counting them again would
				// make every retweet of a link a link share too.
				p.RepostOf = ids[e.ref]
				p.Text = fit("RT @" + g.accts[t.author].handle + ": " + t.text)
			case kReply:
				p.ReplyTo = ids[e.ref]
			case kQuote:
				p.QuoteOf = ids[e.ref]
			}
		}
		p.Hashtags = extract(p.Text, '#')
		p.Mentions = extract(p.Text, '@')
		a.emitted++
		if snap == 0 || a.lastSnap < 0 || e.ms-a.lastSnap >= snap {
			a.lastSnap = e.ms
			p.Account = &post.Account{
				Platform: post.PlatformTwitter, ID: a.id, Handle: a.handle, Name: a.name, Description: a.desc,
				CreatedAt: time.UnixMilli(a.created).UTC().Truncate(time.Second),
				Followers: a.followers, Following: a.following, Posts: a.posts + a.emitted,
				Verified: a.verified, DefaultProfile: a.defaultProfile, ObservedAt: p.Time,
			}
		}
		if e.net >= 0 {
			n := &nets[e.net]
			if n.Posts == 0 {
				n.Start = p.Time
			}
			n.Posts++
			n.End = p.Time
		}
		if err := fn(p); err != nil {
			return Truth{}, err
		}
		emitted++
	}
	t := Truth{
		Seed: g.cfg.Seed, Start: g.cfg.Start, End: g.cfg.Start.Add(g.cfg.Duration),
		Posts: emitted, Networks: nets,
	}
	for _, a := range g.accts {
		if a.emitted > 0 {
			t.Accounts++
		}
	}
	for _, c := range g.cascades {
		t.Cascades = append(t.Cascades, string(post.PlatformTwitter)+":"+ids[c])
	}
	slices.Sort(t.Cascades)
	for _, b := range g.newsBots {
		if g.accts[b].emitted > 0 {
			t.NewsBots = append(t.NewsBots, string(post.PlatformTwitter)+":"+g.accts[b].id)
		}
	}
	slices.Sort(t.NewsBots)
	t.Breaking = g.breaking
	return t, nil
}
