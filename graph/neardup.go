package graph

import (
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vigie-osint/vigie/post"
)

// Kind indices of the near-duplicate kinds, as stored in object hashes.
var (
	kindText  = mustKindIndex(post.KindText)
	kindMedia = mustKindIndex(post.KindMedia)
)

func mustKindIndex(k post.Kind) uint8 {
	i, ok := kindIndex(k)
	if !ok {
		panic("graph: kind " + string(k) + " missing from allKinds")
	}
	return uint8(i)
}

// Near-duplicate text.
//
// Copy-paste campaigns rarely post byte-identical texts: each account
// swaps a word, adds an emoji, a mention or its own tracking link. So the
// text signal pairs texts whose estimated Jaccard similarity reaches
// Config.TextThreshold, found without comparing every pair:
//
//  1. normaliseText folds a text to its words (see there);
//  2. the words, joined by single spaces, are cut into overlapping
//     shingles of shingleRunes characters;
//  3. a MinHash signature of sigSize slots summarises the shingle set: the
//     share of equal slots in two signatures estimates the Jaccard
//     similarity of the sets (standard error sqrt(J(1-J)/128), 0.04 at
//     J = 0.7);
//  4. LSH banding cuts the signature into bands of rows slots; texts with
//     an equal band land in the same bucket and become candidates, which
//     pair only if their signatures agree on at least TextThreshold of the
//     slots.
//
// Why character shingles rather than word shingles: an edit replaces a
// word, and a 3-word shingle set loses three shingles per replaced word.
// Two 20-word copies that each replaced a different word share 12 of 24
// word 3-shingles (J = 0.5) but about 100 of 140 character 5-shingles
// (J = 0.71). Word shingles with a character fall-back for short texts
// would also make the shingle kind jump at some length, so that a copy
// one word shorter than its original would share no shingle with it.
// Character shingles of the normalised words need no fall-back and give
// scripts written without spaces (Chinese, Japanese, Thai) shingles too.

const (
	// sigSize is the number of MinHash slots. 128 keeps the estimate's
	// standard error at 0.04 near the default threshold, and 512 bytes
	// per buffered text.
	sigSize = 128
	// shingleRunes is the length of a character shingle.
	shingleRunes = 5
	// maxShingleRunes bounds the normalised characters shingled, so one
	// 64 KiB text costs what a long post does (about 2000 shingles).
	// Copies of a long text that agree on their first 2000 characters
	// are near-duplicates for the engine.
	maxShingleRunes = 2000
	// anchorSlots is how many leading signature slots make a text's
	// anchor (see textAnchor).
	anchorSlots = 4
	// lshRecall is the probability, for two texts whose similarity is
	// exactly the threshold, that they share at least one band; lshParams
	// chooses the narrowest bands that keep it. Higher costs buckets: at
	// the default threshold 0.99 would take 32 bands of 4 rows instead of
	// 25 of 5, and make texts at 0.3 candidates four times as often.
	lshRecall = 0.98
)

// minhashA and minhashB are the MinHash hash family: slot i maps a
// shingle's 64-bit hash x to the top 32 bits of A[i]*x + B[i], a
// multiply-shift universal hash. They are drawn once from a fixed seed,
// never at random: signatures are kept in snapshots and must be equal
// across processes and builds. Changing them changes every signature, and
// so the snapshot version.
var minhashA, minhashB [sigSize]uint64

func init() {
	s := uint64(0x7669676965_6d68) // "vigie" "mh"
	for i := range sigSize {
		minhashA[i] = splitmix64(&s) | 1
		minhashB[i] = splitmix64(&s)
	}
}

// splitmix64 advances *s and returns the next output of Vigna's
// SplitMix64 generator.
func splitmix64(s *uint64) uint64 {
	*s += 0x9e3779b97f4a7c15
	return mix64(*s)
}

// mix64 is SplitMix64's finaliser: a fixed bijection of 64-bit words that
// spreads every input bit over the output.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// normaliseText appends to buf the normalised form of s, its words
// separated by single spaces, and returns it with the number of words.
// The rules, which make copies differing only in presentation equal:
//
//   - a whitespace-separated field that is a link (it contains "://",
//     starts with "www.", or is a host name with a path, "bit.ly/x") or a
//     mention (its first character that is not punctuation is "@") is
//     dropped: campaigns vary links for tracking and address each copy to
//     someone else;
//   - letters are lower-cased (Unicode simple case mapping), full-width
//     ASCII forms become ASCII, and diacritics are removed: combining
//     marks are dropped, and the precomposed letters of Latin-1 and Latin
//     Extended-A (French, Spanish, German, Polish, Czech, Turkish,
//     Romanian...) become their base letters ("é" → "e", "ß" → "ss",
//     "œ" → "oe"), because accents are dropped or added at will on
//     phones. Other precomposed letters (Vietnamese, Greek tonos) are
//     kept as they are;
//   - a word is a run of letters, digits and non-combining marks;
//     anything else (punctuation, symbols, emoji, the "#" of hashtags)
//     separates words, so a hashtag counts as its word;
//   - each character of a script written without spaces (Han, Hiragana,
//     Katakana, Thai, Lao, Khmer, Myanmar) is a word by itself, so such
//     texts have word counts comparable with spaced scripts.
//
// Normalising the output again gives it back unchanged.
func normaliseText(buf []byte, s string) ([]byte, int) {
	words := 0
	inWord := false
	start := len(buf)
	sep := func() {
		if len(buf) > start {
			buf = append(buf, ' ')
		}
		words++
	}
	for len(s) > 0 {
		// Next field.
		i := 0
		for i < len(s) {
			sp, n := spaceAt(s, i)
			if !sp {
				break
			}
			i += n
		}
		s = s[i:]
		j := 0
		for j < len(s) {
			sp, n := spaceAt(s, j)
			if sp {
				break
			}
			j += n
		}
		field := s[:j]
		s = s[j:]
		if field == "" || isLinkField(field) || isMentionField(field) {
			continue
		}
		inWord = false
		for _, r := range field {
			if r < utf8.RuneSelf { // ASCII, most of most texts
				c := byte(r)
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' {
					if !inWord {
						sep()
						inWord = true
					}
					buf = append(buf, c)
				} else {
					inWord = false
				}
				continue
			}
			r1, r2 := foldRune(r)
			for _, r := range [2]rune{r1, r2} {
				switch {
				case r == 0:
				case unicode.Is(unicode.Mn, r):
					// A combining mark: dropped, and does not end the word.
				case !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)):
					inWord = false
				case isSpacelessScript(r):
					sep()
					buf = utf8.AppendRune(buf, r)
					inWord = false
				default:
					if !inWord {
						sep()
						inWord = true
					}
					buf = utf8.AppendRune(buf, r)
				}
			}
		}
	}
	return buf, words
}

// spaceAt tells whether the character at s[i] is white space, and its
// length in bytes.
func spaceAt(s string, i int) (bool, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return c == ' ' || '\t' <= c && c <= '\r', 1
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	return unicode.IsSpace(r), n
}

// isLinkField tells whether a whitespace-separated field is a link.
func isLinkField(f string) bool {
	if strings.Contains(f, "://") {
		return true
	}
	f = strings.TrimLeftFunc(f, func(r rune) bool { return unicode.IsPunct(r) })
	if len(f) >= 4 && strings.EqualFold(f[:4], "www.") {
		return true
	}
	// A bare host with a path: "bit.ly/3xYz", "t.co/abc".
	host, _, ok := strings.Cut(f, "/")
	if !ok {
		return false
	}
	dot := strings.LastIndexByte(host, '.')
	if dot <= 0 || len(host)-dot-1 < 2 {
		return false
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		letter := c|0x20 >= 'a' && c|0x20 <= 'z'
		if i > dot && !letter { // the top-level domain is letters only
			return false
		}
		if !letter && !(c >= '0' && c <= '9') && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// isMentionField tells whether a field is a mention: its first character
// that is not other punctuation is "@" (or the full-width "＠").
func isMentionField(f string) bool {
	for _, r := range f {
		if r == '@' || r == '＠' {
			return true
		}
		if !unicode.IsPunct(r) {
			return false
		}
	}
	return false
}

// isSpacelessScript tells whether r belongs to a script written without
// spaces between words.
func isSpacelessScript(r rune) bool {
	if r < 0x0e00 {
		return false
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana,
		unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar)
}

// latinExtA gives the base letter of U+0100..U+017F (Latin Extended-A),
// upper and lower case alike; '*' marks the ligatures "ĳ" and "œ", which
// foldRune spells out.
const latinExtA = "aaaaaacccccccc" + "dddd" + "eeeeeeeeee" + "gggggggg" + "hhhh" +
	"iiiiiiiiii" + "**" + "jj" + "kkk" + "llllllllll" + "nnnnnnnnn" + "oooooo" + "**" +
	"rrrrrr" + "ssssssss" + "tttttt" + "uuuuuuuuuuuu" + "ww" + "yyy" + "zzzzzz" + "s"

// latin1 gives the base letter of U+00DF..U+00FF, lower case; '*' marks
// the letters foldRune spells out ("ß", "æ") and '-' those it keeps
// ("÷" is a symbol, "þ" has no base letter).
const latin1 = "*aaaaaa*ceeeeiiiidnooooo-ouuuuy-y"

// foldRune lower-cases r and removes its diacritics (see normaliseText).
// It returns up to two runes; a zero second rune means one.
func foldRune(r rune) (rune, rune) {
	if r < 0x80 {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r, 0
	}
	if 0xff01 <= r && r <= 0xff5e { // full-width ASCII
		return foldRune(r - 0xfee0)
	}
	r = unicode.ToLower(r)
	switch {
	case r == 'ß':
		return 's', 's'
	case r == 'æ':
		return 'a', 'e'
	case r == 'ĳ':
		return 'i', 'j'
	case r == 'œ':
		return 'o', 'e'
	case r == 'ς': // final sigma
		return 'σ', 0
	case 0xdf <= r && r <= 0xff:
		if c := latin1[r-0xdf]; c != '-' && c != '*' {
			return rune(c), 0
		}
	case 0x100 <= r && r <= 0x17f:
		if c := latinExtA[r-0x100]; c != '*' {
			return rune(c), 0
		}
	}
	return r, 0
}

// textSig is the result of signing a text.
type textSig struct {
	sig     []uint32 // sigSize slots
	anchor  uint64   // textAnchor(sig)
	snippet string   // the first textSnippet bytes of the normalised text
}

// signer signs texts, reusing its scratch space from one text to the
// next. The zero value is ready.
type signer struct {
	norm []byte
	off  []int
	xs   []uint64
}

// signText signs one text with a fresh signer; see signer.sign.
func signText(text string, minWords int) (textSig, bool) {
	var s signer
	return s.sign(text, minWords)
}

// sign normalises text and returns its signature, or ok false when it
// has fewer than minWords words.
func (s *signer) sign(text string, minWords int) (textSig, bool) {
	var words int
	s.norm, words = normaliseText(s.norm[:0], text)
	if words < max(1, minWords) {
		return textSig{}, false
	}
	ts := textSig{sig: make([]uint32, sigSize)}
	s.minhash(ts.sig)
	ts.anchor = textAnchor(ts.sig)
	snip := s.norm
	if len(snip) > textSnippet {
		snip = snip[:textSnippet]
		for !utf8.Valid(snip) {
			snip = snip[:len(snip)-1]
		}
	}
	ts.snippet = string(snip)
	return ts, true
}

// minhash fills sig with the MinHash signature of the character shingles
// of s.norm (one shingle of the whole text when it is shorter than a
// shingle), which must not be empty.
func (s *signer) minhash(sig []uint32) {
	norm := s.norm
	// Offsets of the first maxShingleRunes+1 runes.
	off := s.off[:0]
	for i := range string(norm) {
		if len(off) > maxShingleRunes {
			break
		}
		off = append(off, i)
	}
	if len(off) <= maxShingleRunes {
		off = append(off, len(norm))
	}
	n := len(off) - 1 // runes
	k := min(shingleRunes, n)
	xs := s.xs[:0]
	for i := 0; i+k <= n; i++ {
		xs = append(xs, shingleHash(norm[off[i]:off[i+k]]))
	}
	s.off, s.xs = off, xs
	// Four slots per pass over the shingles: each shingle hash is loaded
	// once for four independent multiply-shift-min chains.
	out := (*[sigSize]uint32)(sig)
	for j := 0; j < sigSize; j += 4 {
		a0, a1, a2, a3 := minhashA[j], minhashA[j+1], minhashA[j+2], minhashA[j+3]
		b0, b1, b2, b3 := minhashB[j], minhashB[j+1], minhashB[j+2], minhashB[j+3]
		m0, m1, m2, m3 := uint32(math.MaxUint32), uint32(math.MaxUint32), uint32(math.MaxUint32), uint32(math.MaxUint32)
		for _, x := range xs {
			m0 = min(m0, uint32((a0*x+b0)>>32))
			m1 = min(m1, uint32((a1*x+b1)>>32))
			m2 = min(m2, uint32((a2*x+b2)>>32))
			m3 = min(m3, uint32((a3*x+b3)>>32))
		}
		out[j], out[j+1], out[j+2], out[j+3] = m0, m1, m2, m3
	}
}

// shingleHash is 64-bit FNV-1a of a shingle, finalised by mix64 so that
// the multiply-shift family sees well-spread inputs.
func shingleHash(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return mix64(h)
}

// textAnchor is a content hash of a signature's first anchorSlots slots.
// Two texts of similarity J have equal anchors with probability about
// J^4: near-duplicates usually do, unrelated texts almost never do (0.8%
// at J = 0.3).
func textAnchor(sig []uint32) uint64 {
	h := uint64(0x616e63686f72) // "anchor"
	for _, v := range sig[:anchorSlots] {
		h = mix64(h ^ uint64(v))
	}
	return h
}

// agreement counts the slots where two signatures are equal.
func agreement(a, b []uint32) int {
	n := 0
	for i := range a {
		if a[i] == b[i] {
			n++
		}
	}
	return n
}

// lshParams returns the band count and rows per band for a similarity
// threshold: the most rows (so the fewest chance candidates) such that two
// texts of similarity exactly t share a band with probability at least
// lshRecall, 1-(1-t^rows)^bands >= 0.98. At the default 0.7 it gives 25
// bands of 5 rows: texts at 0.7 are candidates with probability 0.990,
// at 0.75 with 0.999, at 0.5 with 0.55 and at 0.3 with 0.06; every
// candidate is then checked against the threshold.
func lshParams(t float64) (bands, rows int) {
	for r := sigSize; r >= 1; r-- {
		b := sigSize / r
		if 1-math.Pow(1-math.Pow(t, float64(r)), float64(b)) >= lshRecall {
			return b, r
		}
	}
	return sigSize, 1
}

// needAgreement is the fewest equal slots out of sigSize for an estimated
// similarity of at least t.
func needAgreement(t float64) int {
	return max(1, int(math.Ceil(t*sigSize-1e-9)))
}

// bandKeys appends the LSH bucket keys of sig: one per band, a hash of
// the band's index and slots.
func bandKeys(dst []uint64, sig []uint32, bands, rows int) []uint64 {
	for b := range bands {
		h := mix64(uint64(b) + 0x62616e64) // "band"
		for _, v := range sig[b*rows : (b+1)*rows] {
			h = mix64(h ^ uint64(v))
		}
		dst = append(dst, h)
	}
	return dst
}

// textObject is the object a text founds (see nearObj): its anchor names
// it, so that the object hash depends on content, not on which copy came
// first; the snippet is for the analyst.
func textObject(ts textSig) nearObj {
	anchor := hex.EncodeToString(binary.BigEndian.AppendUint64(nil, ts.anchor))
	return nearObj{h: objectHash(kindText, anchor), key: anchor + " " + ts.snippet}
}

// Near-duplicate index, shared by text and media.
//
// An object of these kinds is not a key but a family of near-identical
// texts (or images), and the engine must count one family as one object
// for every pair, however many edited copies each account posted: that is
// what makes the distinct-object weight mean "distinct messages". So every
// indexed action carries the family it joined, nearObj, chosen when it is
// added:
//
//   - if it matches actions already indexed within Window (any account,
//     its own too), it joins the family of the closest one (most equal
//     signature slots, or least Hamming distance; ties go to the earliest
//     action, then the lowest post key: see nearBefore);
//   - otherwise it founds a family named after its own content: for text
//     the anchor, a hash of its first signature slots, shown with a
//     snippet of the normalised text ("3f2a... vote no on the
//     referendum"); for media the hash itself.
//
// A co-action's object is the family of the action that completes it
// (the later arrival). With 30 accounts pasting edited copies of one
// message within the window, the first copy founds the family and every
// later copy joins it, directly or through another copy, so each of the
// 435 pairs gets the same object once. Naming a family by content keeps
// the name stable beyond the window: the same message pasted again hours
// later founds a family of the same name as long as the copy has the
// founder's anchor (probability about J^4), and the pairs that shared it
// before do not count it twice. Which copy arrives first decides the name
// only when copies have different anchors; the pairs found never depend
// on arrival order (within Lateness and KeyCap), as a pair is made by
// comparing its two actions, not through the family.
//
// Buckets are bounded: a text band bucket keeps its KeyCap latest actions,
// as a key's buffer does; a media block bucket, which unrelated images
// share by design (a 9-bit block is common to 1/512 of all images),
// keeps mediaBucketFactor times more. Either way, a new action pairs
// with at most KeyCap matches, the latest ones.

// nearObj is a near-duplicate family: h is its object hash (kind in the
// top byte, as for every object) and key what analysts see.
type nearObj struct {
	h   uint64
	key string
}

// nearEntry is one text or media action held in a near-duplicate index.
// It is shared by every bucket it is in.
type nearEntry struct {
	entry
	obj  nearObj
	sig  []uint32 // text: MinHash signature
	ph   uint64   // media: perceptual hash
	mark uint64   // the last lookup that met it, so a lookup counts it once
}

// nearItem is an entry in one bucket with what a lookup reads first kept
// inline, so that entries outside the window and, for media, hashes too
// far away are passed over without following the pointer.
type nearItem struct {
	t  int64
	ph uint64
	en *nearEntry
}

// nearBucket holds the recent entries of one bucket, oldest first, by
// (t, seq).
type nearBucket struct {
	items []nearItem
}

// nearIndex is a bucketed index of recent near-duplicate actions.
type nearIndex struct {
	kind    uint8
	cap     int
	buckets map[uint64]*nearBucket
	stamp   uint64 // lookups so far; see nearEntry.mark
}

func newNearIndex(kind uint8, bucketCap int) nearIndex {
	return nearIndex{kind: kind, cap: bucketCap, buckets: map[uint64]*nearBucket{}}
}

// stale returns how many items are older than cutoff.
func (b *nearBucket) stale(cutoff int64) int { return firstFrom(b.items, cutoff) }

// firstFrom returns the index of the first item at or after t. (A plain
// loop: slices.BinarySearchFunc's callback was a fifth of a media
// lookup's time.)
func firstFrom(items []nearItem, t int64) int {
	lo, hi := 0, len(items)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if items[m].t < t {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// trim drops the items older than cutoff, when they are at least half of
// the bucket or when all is set. Until then they are harmless: a lookup
// starts at its window, which begins after cutoff (a post older than
// maxTime-Lateness is rejected), and when the bucket is full its oldest
// item, a stale one, makes room as trimming would have. A media bucket
// holds thousands of items, and trimming one stale item per insert would
// move all the others each time.
func (b *nearBucket) trim(cutoff int64, all bool) {
	if n := b.stale(cutoff); n > 0 && (all || 2*n >= len(b.items)) {
		b.items = slices.Delete(b.items, 0, n)
	}
}

// insert adds ne under the bucket cap: when full, the oldest item makes
// room, unless ne is older than all of them.
func (b *nearBucket) insert(ne *nearEntry, bucketCap int) {
	if len(b.items) >= bucketCap {
		if ne.t < b.items[0].t {
			return
		}
		b.items = slices.Delete(b.items, 0, 1)
	}
	// ne has the highest seq, so it goes after every item of its time.
	b.items = slices.Insert(b.items, firstFrom(b.items, ne.t+1), nearItem{t: ne.t, ph: ne.ph, en: ne})
}

// nearMatch is a verified candidate and how close it is (higher is
// closer).
type nearMatch struct {
	en    *nearEntry
	score int
}

// addNear indexes ne under keys: it finds the indexed actions within
// Window sharing a bucket, keeps those near says are near-duplicates,
// gives ne its family (its own, own, if none matches; see the index's
// doc), pairs ne with the latest KeyCap matches of other accounts, and
// inserts it. For media, maxDist pre-filters items on their inline hash.
func (e *Engine) addNear(ix *nearIndex, keys []uint64, ne *nearEntry, own nearObj, near func(*nearEntry) (int, bool)) {
	e.stats.Actions++
	ix.stamp++
	media := ix.kind == kindMedia
	lo, hi := ne.t-e.window, ne.t+e.window
	matches := e.scratchM[:0]
	for _, k := range keys {
		b := ix.buckets[k]
		if b == nil {
			continue
		}
		for _, it := range b.items[firstFrom(b.items, lo):] {
			if it.t > hi {
				break
			}
			if media && bits.OnesCount64(it.ph^ne.ph) > e.mediaDist {
				continue
			}
			c := it.en
			if c.mark == ix.stamp {
				continue // found in an earlier bucket
			}
			c.mark = ix.stamp
			if s, ok := near(c); ok {
				matches = append(matches, nearMatch{c, s})
			}
		}
	}
	ne.obj = own
	if len(matches) > 0 {
		best := matches[0]
		for _, m := range matches[1:] {
			if nearBefore(m, best) {
				best = m
			}
		}
		ne.obj = best.en.obj
	}
	// Pair with the latest KeyCap matches of other accounts.
	slices.SortFunc(matches, func(x, y nearMatch) int {
		if c := cmp.Compare(y.en.t, x.en.t); c != 0 {
			return c
		}
		return cmp.Compare(y.en.seq, x.en.seq)
	})
	paired := 0
	for _, m := range matches {
		if paired == e.cfg.KeyCap {
			break
		}
		if m.en.acc == ne.acc {
			continue
		}
		paired++
		e.coactOn(ix.kind, ne.obj.h, ne.obj.key, ne.acc, ne.t, ne.post, m.en.entry)
	}
	e.seq++
	ne.seq = e.seq
	cutoff := e.maxTime - e.lateness - e.window
	for _, k := range keys {
		b := ix.buckets[k]
		if b == nil {
			b = &nearBucket{}
			ix.buckets[k] = b
		}
		b.trim(cutoff, false)
		b.insert(ne, ix.cap)
	}
	clear(matches)
	e.scratchM = matches[:0]
}

// nearBefore tells whether match x is a better family to join than y:
// closer, then earlier, then of the lower post key, then of the lower
// seq (one post may attach several images). A total order, so the choice
// does not depend on the order buckets were read in.
func nearBefore(x, y nearMatch) bool {
	if x.score != y.score {
		return x.score > y.score
	}
	if x.en.t != y.en.t {
		return x.en.t < y.en.t
	}
	if x.en.post != y.en.post {
		return x.en.post < y.en.post
	}
	return x.en.seq < y.en.seq
}

// sweepNear trims the near-duplicate indexes every Window+Lateness of
// stream time, more often than the engine's sweep (by default every 90
// minutes): a text sits in 25 buckets at the default threshold, most of
// them its own, and keeping them until the next sweep would hold 15
// times more buckets than the window needs. Like sweep, it only frees
// memory.
func (e *Engine) sweepNear() {
	cut := e.maxTime - e.lateness - e.window
	e.text.sweep(cut, nil)
	e.media.sweep(cut, nil)
	e.nextNearSweep = e.maxTime + e.window + e.lateness
}

// sweep trims every bucket, drops empty ones, and marks the accounts the
// remaining entries refer to in used, unless it is nil.
func (ix *nearIndex) sweep(cutoff int64, used []bool) {
	for k, b := range ix.buckets {
		b.trim(cutoff, true)
		if len(b.items) == 0 {
			delete(ix.buckets, k)
			continue
		}
		if cap(b.items) > 2*len(b.items)+8 {
			b.items = slices.Clip(slices.Clone(b.items))
		}
		if used == nil {
			continue
		}
		for _, it := range b.items {
			used[it.en.acc] = true
		}
	}
}

// live returns the distinct entries of the index no older than cutoff,
// by seq: the state that can still change a result.
func (ix *nearIndex) live(cutoff int64) []*nearEntry {
	var all []*nearEntry
	for _, b := range ix.buckets {
		for _, it := range b.items[b.stale(cutoff):] {
			all = append(all, it.en)
		}
	}
	slices.SortFunc(all, func(x, y *nearEntry) int { return cmp.Compare(x.seq, y.seq) })
	return slices.Compact(all)
}

// addText indexes a text action (see addNear): candidates share an LSH
// band, and match when their signatures agree on at least textNeed slots.
func (e *Engine) addText(ts textSig, acc uint32, t int64, pk string) {
	ne := &nearEntry{entry: entry{t: t, acc: acc, post: pk}, sig: ts.sig}
	e.scratchB = bandKeys(e.scratchB[:0], ts.sig, e.bands, e.rows)
	e.addNear(&e.text, e.scratchB, ne, textObject(ts), func(c *nearEntry) (int, bool) {
		a := agreement(ts.sig, c.sig)
		return a, a >= e.textNeed
	})
}

// snapNear is a near-duplicate index in a snapshot: each entry once, by
// Seq, and each bucket as the Seqs of its entries, since one entry sits in
// several buckets. Items older than the trimming cutoff are left out, so
// the bytes do not depend on when buckets were last trimmed.
type snapNear struct {
	Entries []snapNearEntry
	Buckets []snapNearBucket
}

type snapNearEntry struct {
	T       int64
	Seq     uint64
	Account string
	Post    string
	ObjH    uint64
	ObjKey  string
	Sig     []uint32
	PH      uint64
}

type snapNearBucket struct {
	Key  uint64
	Seqs []uint64
}

// snapshot returns the index's live state with account names for
// indices, sorted.
func (ix *nearIndex) snapshot(accName []string, cutoff int64) snapNear {
	var s snapNear
	for _, en := range ix.live(cutoff) {
		s.Entries = append(s.Entries, snapNearEntry{
			T: en.t, Seq: en.seq, Account: accName[en.acc], Post: en.post,
			ObjH: en.obj.h, ObjKey: en.obj.key, Sig: en.sig, PH: en.ph,
		})
	}
	s.Buckets = make([]snapNearBucket, 0, len(ix.buckets))
	for k, b := range ix.buckets {
		items := b.items[b.stale(cutoff):]
		if len(items) == 0 {
			continue
		}
		sb := snapNearBucket{Key: k, Seqs: make([]uint64, len(items))}
		for i, it := range items {
			sb.Seqs[i] = it.en.seq
		}
		s.Buckets = append(s.Buckets, sb)
	}
	slices.SortFunc(s.Buckets, func(x, y snapNearBucket) int { return cmp.Compare(x.Key, y.Key) })
	return s
}

// restore fills an empty index from a snapshot, interning account names
// with acc and strings with str. It checks what the engine relies on:
// entries of this kind, signatures of the right size, buckets within
// their cap, in (t, seq) order and naming known entries.
func (ix *nearIndex) restore(s snapNear, acc func(string) uint32, str func(string) string) error {
	name := allKinds[ix.kind]
	bySeq := make(map[uint64]*nearEntry, len(s.Entries))
	for _, se := range s.Entries {
		if uint8(se.ObjH>>56) != ix.kind {
			return fmt.Errorf("graph: snapshot %s entry %d: object of another kind", name, se.Seq)
		}
		if ix.kind == kindText && len(se.Sig) != sigSize {
			return fmt.Errorf("graph: snapshot %s entry %d: signature of %d slots, want %d", name, se.Seq, len(se.Sig), sigSize)
		}
		if _, dup := bySeq[se.Seq]; dup {
			return fmt.Errorf("graph: snapshot %s entry %d: listed twice", name, se.Seq)
		}
		ne := &nearEntry{
			entry: entry{t: se.T, seq: se.Seq, acc: acc(se.Account), post: str(se.Post)},
			obj:   nearObj{h: se.ObjH, key: str(se.ObjKey)},
			ph:    se.PH,
		}
		if len(se.Sig) > 0 {
			ne.sig = slices.Clone(se.Sig)
		}
		bySeq[se.Seq] = ne
	}
	for _, sb := range s.Buckets {
		if len(sb.Seqs) == 0 || len(sb.Seqs) > ix.cap {
			return fmt.Errorf("graph: snapshot %s bucket %x: %d entries, cap %d", name, sb.Key, len(sb.Seqs), ix.cap)
		}
		b := &nearBucket{items: make([]nearItem, len(sb.Seqs))}
		for i, q := range sb.Seqs {
			en := bySeq[q]
			if en == nil {
				return fmt.Errorf("graph: snapshot %s bucket %x: unknown entry %d", name, sb.Key, q)
			}
			if i > 0 {
				if p := b.items[i-1].en; p.t > en.t || p.t == en.t && p.seq >= en.seq {
					return fmt.Errorf("graph: snapshot %s bucket %x: entries out of order", name, sb.Key)
				}
			}
			b.items[i] = nearItem{t: en.t, ph: en.ph, en: en}
		}
		ix.buckets[sb.Key] = b
	}
	return nil
}
