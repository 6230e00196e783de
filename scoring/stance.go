package scoring

import (
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vigie-osint/vigie/election"
	"github.com/vigie-osint/vigie/post"
)

// Stance labels of a post towards a candidate.
const (
	Favour  = "favour"
	Smear   = "smear"
	Neutral = "neutral"
)

// StanceThreshold is the evidence a post needs to take a side: the sum of
// its cues for a candidate must reach +threshold (favour) or -threshold
// (smear). One seed hashtag (1.0) or one clear evaluative word (0.8-1)
// is enough; a propagated hashtag (at most 0.8) or a weak word is not.
const StanceThreshold = 0.5

// Judgement is a post's stance towards one candidate.
type Judgement struct {
	Candidate string
	Stance    string  // Favour, Smear or Neutral
	Score     float64 // summed cues: positive favours, negative smears
	Mentioned bool    // the post names the candidate, their party or a hashtag of theirs
}

// StanceModel reads the stance of a post towards each candidate of an
// election from its words and hashtags. It is rule-based on purpose: its
// every decision can be explained to an analyst ("'menteur' said of
// Macron"), it needs no training data for a new election beyond the
// election file, and it is deterministic.
//
// Hashtag polarities start from the election's seeds and are extended by
// Propagate over the hashtag co-occurrence graph; a StanceModel is not
// safe for concurrent Propagate and Classify.
type StanceModel struct {
	el      *election.Election
	ids     []string
	aliases [][]phrase // per candidate: folded token sequences (aliases, party aliases)
	byFirst map[string][]candPhrase
	handles map[string]int
	tags    map[string]int // mention, favour and smear hashtags -> candidate
	seeds   map[string]seed
	neutral map[string]bool
	// polarity holds, per folded hashtag, its stance value for each
	// candidate: seeds at ±1, propagated tags in between.
	polarity map[string][]float64
}

type phrase []string

// candPhrase is an alias with its candidate, indexed by its first word.
type candPhrase struct {
	cand int
	p    phrase
}

type seed struct {
	cand int
	val  float64
}

// NewStanceModel builds the model of an election.
func NewStanceModel(e *election.Election) *StanceModel {
	m := &StanceModel{el: e, ids: e.IDs(), handles: map[string]int{}, tags: map[string]int{}, byFirst: map[string][]candPhrase{},
		seeds: map[string]seed{}, neutral: map[string]bool{}, polarity: map[string][]float64{}}
	for _, t := range e.NeutralHashtags {
		m.neutral[election.Fold(t)] = true
	}
	for i, c := range e.Candidates {
		var ps []phrase
		for _, a := range slices.Concat(c.Aliases, c.Party.Aliases, []string{c.Name}) {
			if p := phrase(tokenWords(election.Fold(a))); len(p) > 0 {
				ps = append(ps, p)
			}
		}
		// Longest first, so "marine le pen" wins over "marine".
		slices.SortStableFunc(ps, func(a, b phrase) int { return len(b) - len(a) })
		m.aliases = append(m.aliases, ps)
		for _, p := range ps {
			m.byFirst[p[0]] = append(m.byFirst[p[0]], candPhrase{i, p})
		}
		for _, h := range slices.Concat(c.Handles, c.Party.Handles) {
			m.handles[election.Fold(h)] = i
		}
		for _, t := range c.Hashtags.Mention {
			m.tags[election.Fold(t)] = i
		}
		for _, t := range c.Hashtags.Favour {
			m.tags[election.Fold(t)] = i
			m.seeds[election.Fold(t)] = seed{i, 1}
		}
		for _, t := range c.Hashtags.Smear {
			m.tags[election.Fold(t)] = i
			m.seeds[election.Fold(t)] = seed{i, -1}
		}
	}
	m.resetPolarity()
	return m
}

// Candidates lists the candidate IDs, in election order; Classify's
// judgements follow it.
func (m *StanceModel) Candidates() []string { return m.ids }

func (m *StanceModel) resetPolarity() {
	clear(m.polarity)
	for t, s := range m.seeds {
		v := make([]float64, len(m.ids))
		v[s.cand] = s.val
		m.polarity[t] = v
	}
}

// HashtagPolarity returns the stance value of a hashtag towards each
// candidate (nil when it has none).
func (m *StanceModel) HashtagPolarity(tag string) []float64 {
	return m.polarity[election.Fold(tag)]
}

// token is one word of a post, folded, with what it is.
type token struct {
	w    string
	kind byte // 'w' word, '#' hashtag, '@' mention
	sent int  // sentence index
	cl   int  // clause index: commas and colons end a negation's scope
	cand int  // candidate named here, -1 if none
	span int  // words the candidate name spans
}

// Classify judges p's stance towards every candidate.
func (m *StanceModel) Classify(p *post.Post) []Judgement {
	return m.ClassifyText(p.Text, p.Hashtags, p.Lang)
}

// ClassifyText judges a text and its hashtags (without '#'; hashtags
// written in the text are found too). lang picks the lexicon; an unknown
// or empty language uses every lexicon.
func (m *StanceModel) ClassifyText(text string, hashtags []string, lang string) []Judgement {
	scores := make([]float64, len(m.ids))
	mentioned := make([]bool, len(m.ids))
	text = stripRetweet(text)
	toks := m.tokenize(text)

	// Hashtag cues: each distinct hashtag once, whether listed or inline.
	seen := map[string]bool{}
	addTag := func(t string) {
		f := election.Fold(t)
		if f == "" || seen[f] {
			return
		}
		seen[f] = true
		if c, ok := m.tags[f]; ok {
			mentioned[c] = true
		}
		if m.neutral[f] {
			return
		}
		for c, v := range m.polarity[f] {
			scores[c] += v
		}
	}
	for _, t := range hashtags {
		addTag(t)
	}
	for _, t := range toks {
		if t.kind == '#' {
			addTag(t.w)
		}
		if t.cand >= 0 {
			mentioned[t.cand] = true
		}
	}
	// The post's only candidate, for cues in sentences naming nobody.
	only := -1
	for c, ok := range mentioned {
		if ok {
			if only >= 0 {
				only = -2
				break
			}
			only = c
		}
	}

	lexs := m.lexiconsFor(lang)
	for _, lx := range lexs {
		m.applyLexicon(lx, toks, only, scores)
	}
	out := make([]Judgement, len(m.ids))
	for c := range m.ids {
		s := scores[c]
		st := Neutral
		switch {
		case s >= StanceThreshold:
			st = Favour
		case s <= -StanceThreshold:
			st = Smear
		}
		out[c] = Judgement{Candidate: m.ids[c], Stance: st, Score: math.Round(s*1000) / 1000, Mentioned: mentioned[c] || st != Neutral}
	}
	return out
}

func (m *StanceModel) lexiconsFor(lang string) []lexicon {
	if lx, ok := lexicons[lang]; ok {
		return []lexicon{lx}
	}
	return []lexicon{lexicons["fr"], lexicons["en"]}
}

// applyLexicon adds the lexicon's cues in toks to scores.
func (m *StanceModel) applyLexicon(lx lexicon, toks []token, only int, scores []float64) {
	for i := 0; i < len(toks); i++ {
		if toks[i].kind != 'w' || toks[i].cand >= 0 {
			continue
		}
		// Directives first: they bind forwards to a named candidate.
		if n, v, ok := match(lx.directive, toks, i, lx.firstDir[toks[i].w]); ok {
			if c := nextCandidate(toks, i+n, 3); c >= 0 {
				if negated(lx, toks, i) && v > 0 {
					v = -v // "je ne vote pas Macron"
				}
				scores[c] += v
				i += n - 1
				continue
			}
			if v > 0.5 {
				// "Marine présidente !", "Go Macron" said after the name.
				if c := prevCandidate(toks, i, 2); c >= 0 {
					scores[c] += v / 2
					i += n - 1
					continue
				}
			}
		}
		n, v, ok := match(lx.evaluative, toks, i, lx.firstEval[toks[i].w])
		if !ok {
			continue
		}
		// An entry that holds its own negation ("rien dit", "pas de
		// programme") is already the negated sense: "n'a rien dit" must
		// not flip back.
		if !hasNegator(lx, toks[i:i+n]) && negated(lx, toks, i) {
			v = -v * 0.8
		}
		if c := nearestCandidate(toks, i, n); c >= 0 {
			scores[c] += v
		} else if only >= 0 {
			scores[only] += v * 0.8
		} else if c := soleCandidateBefore(toks, toks[i].sent); c >= 0 {
			// "Macron n'a rien dit. Il les méprise." The previous
			// sentence's only candidate is who "il" most likely is.
			scores[c] += v * 0.8
		}
		i += n - 1
	}
}

// match finds the longest entry of dict starting at toks[i].
func match(dict map[string]float64, toks []token, i, maxLen int) (int, float64, bool) {
	for n := maxLen; n >= 1; n-- {
		if i+n > len(toks) {
			continue
		}
		var b strings.Builder
		okSpan := true
		for k := 0; k < n; k++ {
			t := toks[i+k]
			if t.kind != 'w' || t.cand >= 0 || t.sent != toks[i].sent {
				okSpan = false
				break
			}
			if k > 0 && !strings.HasSuffix(toks[i+k-1].w, "'") {
				b.WriteByte(' ')
			}
			b.WriteString(t.w)
		}
		if !okSpan {
			continue
		}
		if v, ok := dict[b.String()]; ok {
			return n, v, true
		}
	}
	return 0, 0, false
}

func hasNegator(lx lexicon, toks []token) bool {
	for _, t := range toks {
		if lx.negators[t.w] {
			return true
		}
	}
	return false
}

// negated tells whether a negator stands within three words before toks[i]
// in the same sentence.
func negated(lx lexicon, toks []token, i int) bool {
	for k := i - 1; k >= 0 && k >= i-3; k-- {
		if toks[k].cl != toks[i].cl {
			return false
		}
		if toks[k].kind == 'w' && lx.negators[toks[k].w] {
			return true
		}
	}
	return false
}

func nextCandidate(toks []token, from, within int) int {
	for k := from; k < len(toks) && k < from+within; k++ {
		if toks[k].sent != toks[from-1].sent {
			return -1
		}
		if toks[k].cand >= 0 {
			return toks[k].cand
		}
	}
	return -1
}

func prevCandidate(toks []token, i, within int) int {
	for k := i - 1; k >= 0 && k >= i-within; k-- {
		if toks[k].sent != toks[i].sent {
			return -1
		}
		if toks[k].cand >= 0 {
			return toks[k].cand
		}
	}
	return -1
}

// nearestCandidate is the candidate named closest to the cue toks[i:i+n]
// in its sentence; a tie goes to the earlier name (the subject, usually).
func nearestCandidate(toks []token, i, n int) int {
	best, bestD := -1, math.MaxInt
	for k := range toks {
		if toks[k].sent != toks[i].sent || toks[k].cand < 0 {
			continue
		}
		d := i - (k + max(toks[k].span, 1) - 1)
		if k > i {
			d = k - (i + n - 1)
		}
		if d < bestD {
			best, bestD = toks[k].cand, d
		}
	}
	return best
}

// soleCandidateBefore is the candidate of the nearest earlier sentence
// that names one, when it names exactly one; else -1.
func soleCandidateBefore(toks []token, sent int) int {
	for s := sent - 1; s >= 0; s-- {
		found := -1
		for _, t := range toks {
			if t.sent != s || t.cand < 0 {
				continue
			}
			if found >= 0 && found != t.cand {
				return -1
			}
			found = t.cand
		}
		if found >= 0 {
			return found
		}
	}
	return -1
}

// tokenize splits text into folded tokens with sentence numbers, and marks
// the tokens that name a candidate (aliases, handles, hashtags).
func (m *StanceModel) tokenize(text string) []token {
	folded := election.Fold(" " + text) // a space keeps a leading # or @
	toks := make([]token, 0, 32)
	sent, cl := 0, 0
	// Tokens are substrings of folded: [from, i) while from >= 0.
	from := -1
	kind := byte('w')
	flush := func(to int) {
		if from >= 0 && to > from {
			toks = append(toks, token{w: folded[from:to], kind: kind, sent: sent, cl: cl, cand: -1})
		}
		from, kind = -1, 'w'
	}
	for i := 0; i < len(folded); {
		r, size := utf8.DecodeRuneInString(folded[i:])
		at := i
		i += size
		switch {
		case r == '#' || r == '@':
			flush(at)
			kind = byte(r)
			from = i
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || (r == '-' && from >= 0 && at > from && kind == 'w'):
			if from < 0 {
				from = at
			}
		case r == '\'':
			if kind == 'w' && from >= 0 && at > from {
				// French elision keeps its apostrophe on the first part
				// ("n'", "l'"); English "don't" stays whole.
				w := folded[from:at]
				next, _ := utf8.DecodeRuneInString(folded[i:])
				if w == "don" || w == "can" || w == "won" || strings.HasSuffix(w, "n") && next == 't' {
					continue
				}
				flush(i)
				continue
			}
			flush(at)
		case r == '.' || r == '!' || r == '?' || r == ';' || r == '\n' || r == '…':
			flush(at)
			sent++
			cl++
		case r == ',' || r == ':' || r == '(' || r == ')' || r == '"' || r == '«' || r == '»':
			flush(at)
			cl++
		default:
			flush(at)
		}
	}
	flush(len(folded))
	m.markCandidates(toks)
	return toks
}

// markCandidates sets cand on tokens that name a candidate. Multi-word
// aliases mark their first token and blank the rest (span).
func (m *StanceModel) markCandidates(toks []token) {
	for i := range toks {
		t := &toks[i]
		switch t.kind {
		case '@':
			if c, ok := m.handles[t.w]; ok {
				t.cand = c
			}
			continue
		case '#':
			if c, ok := m.tags[t.w]; ok {
				t.cand = c
			}
			continue
		}
	}
	for i := 0; i < len(toks); i++ {
		if toks[i].kind != 'w' || toks[i].cand >= 0 {
			continue
		}
		best, bestLen := -1, 0
		for _, cp := range m.byFirst[strings.TrimSuffix(toks[i].w, "'")] {
			p := cp.p
			if len(p) <= bestLen || i+len(p) > len(toks) {
				continue
			}
			ok := true
			for k, w := range p {
				tw := strings.TrimSuffix(toks[i+k].w, "'")
				if toks[i+k].kind != 'w' || tw != w {
					ok = false
					break
				}
			}
			if ok {
				best, bestLen = cp.cand, len(p)
			}
		}
		if best >= 0 {
			toks[i].cand, toks[i].span = best, bestLen
			for k := 1; k < bestLen; k++ {
				toks[i+k].kind = '-' // part of a name: neither cue nor name
			}
			i += bestLen - 1
		}
	}
}

// tokenWords folds nothing: it splits an already folded string into words
// the way tokenize does.
func tokenWords(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-')
	})
}

// stripRetweet drops a "RT @handle:" prefix: the retweeted words are the
// retweeter's stance, the handle is not a mention by them.
func stripRetweet(s string) string {
	if !strings.HasPrefix(s, "RT @") {
		return s
	}
	if i := strings.Index(s, ": "); i > 0 && i < 40 {
		return s[i+2:]
	}
	return s
}
