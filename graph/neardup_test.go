package graph

import (
	"bytes"
	"cmp"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/vigie-osint/vigie/post"
)

// tp is an original post by author at t0+sec seconds with the given text.
func tp(id, author string, sec float64, text string) *post.Post {
	return &post.Post{
		Schema: post.SchemaVersion, Platform: post.PlatformTwitter, ID: id, Author: author,
		Time: t0.Add(time.Duration(sec * float64(time.Second))), Text: text,
	}
}

// A French election vocabulary: every generated text, organic or
// planted, is on these topics, so the planted messages must be told from
// organic texts by more than their words.
var (
	topicWords = strings.Fields(`macron le_pen fillon mélenchon hamon retraites programme médias
		élection vote français france vérité censure peuple finance europe emploi sécurité
		immigration débat sondage candidat président république banques impôts chômage
		jeunes école santé hôpital police frontières euro dette travail salaire réforme
		campagne meeting militants gauche droite centre scandale justice affaire presse`)
	fillWords = strings.Fields(`le la les de des du un une et est pour contre avec sans dans sur
		il elle ils nous vous on ne pas plus très bien tout tous mais ou donc car qui que
		quoi ce cette ces son sa ses leur leurs a ont va vont faut peut doit après avant`)
	slogans = []string{
		"votez le 7 mai pour la france",
		"le changement c'est maintenant ou jamais",
		"partagez avant la censure des médias",
		"la france insoumise en marche vers la victoire",
	}
	emojis = []string{"🔥", "🇫🇷", "👉", "‼️", "😡", "✅"}
)

// organicText is a text on the election topics: words drawn from the
// vocabulary, sometimes with a common slogan, as strangers write them.
func organicText(r *rand.Rand) string {
	var w []string
	for range 12 + r.IntN(20) {
		if r.IntN(2) == 0 {
			w = append(w, topicWords[r.IntN(len(topicWords))])
		} else {
			w = append(w, fillWords[r.IntN(len(fillWords))])
		}
	}
	if r.IntN(4) == 0 {
		at := r.IntN(len(w))
		w = slices.Insert(w, at, slogans[r.IntN(len(slogans))])
	}
	s := strings.ReplaceAll(strings.Join(w, " "), "_", "-")
	if r.IntN(3) == 0 {
		s += " " + emojis[r.IntN(len(emojis))]
	}
	return s
}

// editCopy returns a copy of msg as one account of a campaign pastes it:
// at most one word replaced or two words swapped, and any of an emoji, a
// personal tracking link, a mention, shouting, dropped accents or
// different punctuation.
func editCopy(r *rand.Rand, msg string, acct int) string {
	w := strings.Fields(msg)
	switch r.IntN(4) {
	case 0:
		w[r.IntN(len(w))] = topicWords[r.IntN(len(topicWords))]
	case 1:
		i := r.IntN(len(w) - 1)
		w[i], w[i+1] = w[i+1], w[i]
	}
	s := strings.Join(w, " ")
	if r.IntN(2) == 0 {
		s += " " + emojis[r.IntN(len(emojis))]
	}
	if r.IntN(2) == 0 {
		s += fmt.Sprintf(" https://bit.ly/%x?ref=%d", r.Uint32(), acct)
	}
	if r.IntN(3) == 0 {
		s = "@" + topicWords[r.IntN(len(topicWords))] + " " + s
	}
	if r.IntN(4) == 0 {
		s = strings.ToUpper(s)
	}
	if r.IntN(4) == 0 {
		s = strings.NewReplacer("é", "e", "è", "e", "ç", "c").Replace(s)
	}
	if r.IntN(3) == 0 {
		s = strings.ReplaceAll(s, " ", " ! ")
	}
	return s
}

// campaign returns 20 accounts posting edited copies of 5 messages, each
// message within a minute, amid organic texts on the same topics, sorted
// by time. The planted accounts are "twitter:plant*".
func campaign(seed uint64, organic, organicAccounts int, span float64) []*post.Post {
	r := rand.New(rand.NewPCG(seed, 0x7e47))
	var posts []*post.Post
	for i := range organic {
		posts = append(posts, tp(fmt.Sprint("o", i), fmt.Sprint("org", r.IntN(organicAccounts)), r.Float64()*span, organicText(r)))
	}
	for m := range 5 {
		msg := organicText(r) + " " + organicText(r) // a longer message, on topic
		at := (float64(m) + 0.5) * span / 5
		for a := range 20 {
			posts = append(posts, tp(fmt.Sprintf("m%d-%d", m, a), fmt.Sprintf("plant%02d", a), at+r.Float64()*55, editCopy(r, msg, a)))
		}
	}
	slices.SortStableFunc(posts, func(x, y *post.Post) int { return x.Time.Compare(y.Time) })
	return posts
}

func TestNormaliseText(t *testing.T) {
	tests := []struct {
		name, in, want string
		words          int
	}{
		{"case, punctuation and spacing", "Vote NO,   on the Referendum!!", "vote no on the referendum", 5},
		{"links dropped", "read https://x.example/a?b=1 and www.Example.org then bit.ly/3xYz or (t.co/abc)", "read and then or", 4},
		{"not links: ratios, words with slashes", "1.5/10 and/or e.g.", "1 5 10 and or e g", 7},
		{"mentions dropped, emails kept", "@alice (@bob) ＠carol thanks bob@example.com", "thanks bob example com", 4},
		{"hashtags are words", "#Macron2017 #EnMarche!", "macron2017 enmarche", 2},
		{"emoji and symbols separate words", "vote🔥now ‼️ 100%", "vote now 100", 3},
		{"French diacritics folded", "Élection présidentielle: ÇA SUFFIT, où êtes-vous ?", "election presidentielle ca suffit ou etes vous", 7},
		{"decomposed accents folded alike", "e\u0301lection", "election", 1},
		{"ligatures and sharp s", "Œuvre Straße Æther ĳs", "oeuvre strasse aether ijs", 4},
		{"Latin Extended-A", "Łódź Şişli Dvořák ğ", "lodz sisli dvorak g", 4},
		{"full-width ASCII", "ＶＯＴＥ ２０１７", "vote 2017", 2},
		{"Greek final sigma", "ΛΟΓΟΣ λόγος", "λογοσ λόγοσ", 2},
		{"Cyrillic lower-cased", "ВЫБОРЫ Москва", "выборы москва", 2},
		{"Han characters are words", "投票给他 vote", "投 票 给 他 vote", 5},
		{"Thai characters are words", "เลือก", "เ ล อ ก", 4},
		{"spacing marks kept in words", "हिन्दी", "हिनदी", 1},
		{"empty", " \t\n", "", 0},
		{"only a link", "https://x.example", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, n := normaliseText(nil, tc.in)
			if string(got) != tc.want || n != tc.words {
				t.Errorf("got %q (%d words), want %q (%d)", got, n, tc.want, tc.words)
			}
		})
	}
}

// FuzzNormaliseText checks the normaliser's invariants on any input: the
// output is valid UTF-8, single-spaced, made of words only, with as many
// words as it says; normalising it again changes nothing; and signing
// never panics.
func FuzzNormaliseText(f *testing.F) {
	for _, s := range []string{
		"Vote NO on the referendum, share before they delete it! https://x.example/1",
		"@a ＠b www.x.org bit.ly/x Élection œuvre ß e\u0301 ΛΟΓΟΣ 投票 เลือก हिन्दी ＶＯＴＥ 🔥",
		"", "\xff\xfe", "a/b.cd/e", "((@", "İstanbul ǅ ǈ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, n := normaliseText(nil, s)
		if !utf8.Valid(got) {
			t.Fatalf("invalid UTF-8 %q", got)
		}
		if len(got) > 0 && (got[0] == ' ' || got[len(got)-1] == ' ' || bytes.Contains(got, []byte("  "))) {
			t.Fatalf("not single-spaced: %q", got)
		}
		words := strings.Fields(string(got))
		if len(words) != n {
			t.Fatalf("%q has %d words, normaliseText said %d", got, len(words), n)
		}
		for _, w := range words {
			for _, r := range w {
				if !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)) || unicode.Is(unicode.Mn, r) {
					t.Fatalf("word %q of %q holds %q", w, got, r)
				}
			}
		}
		again, m := normaliseText(nil, string(got))
		if !bytes.Equal(again, got) || m != n {
			t.Fatalf("not idempotent: %q -> %q", got, again)
		}
		ts, ok := signText(s, 1)
		if ok != (n >= 1) || ok && (len(ts.sig) != sigSize || len(ts.snippet) > textSnippet || !utf8.ValidString(ts.snippet)) {
			t.Fatalf("signText(%q): ok %v, %d slots, snippet %q", s, ok, len(ts.sig), ts.snippet)
		}
	})
}

// TestFoldTables guards the hand-written diacritic tables: an upper-case
// letter and its lower case fold alike, and a few known letters fold as
// they should (an offset error in a table would break both).
func TestFoldTables(t *testing.T) {
	if len(latinExtA) != 0x180-0x100 || len(latin1) != 0x100-0xdf {
		t.Fatalf("table sizes %d and %d", len(latinExtA), len(latin1))
	}
	for r := rune(0xc0); r < 0x180; r++ {
		if !unicode.IsLetter(r) {
			continue
		}
		u1, u2 := foldRune(unicode.ToUpper(r))
		l1, l2 := foldRune(unicode.ToLower(r))
		if u1 != l1 || u2 != l2 {
			t.Errorf("%c folds to %c%c, %c to %c%c", unicode.ToUpper(r), u1, u2, unicode.ToLower(r), l1, l2)
		}
	}
	for in, want := range map[rune]string{
		'à': "a", 'ç': "c", 'é': "e", 'ï': "i", 'ñ': "n", 'ô': "o", 'ø': "o", 'ü': "u", 'ÿ': "y", 'ð': "d",
		'ą': "a", 'č': "c", 'ď': "d", 'ę': "e", 'ğ': "g", 'ħ': "h", 'ı': "i", 'ĵ': "j", 'ķ': "k", 'ł': "l",
		'ň': "n", 'ő': "o", 'ř': "r", 'ş': "s", 'ť': "t", 'ů': "u", 'ŵ': "w", 'Ÿ': "y", 'ž': "z", 'ſ': "s",
		'þ': "þ", 'ŋ': "n", 'ĸ': "k",
	} {
		r1, r2 := foldRune(in)
		got := string(r1)
		if r2 != 0 {
			got += string(r2)
		}
		if got != want {
			t.Errorf("%c folds to %q, want %q", in, got, want)
		}
	}
}

func TestLSHParams(t *testing.T) {
	tests := []struct {
		t                  float64
		bands, rows, agree int
	}{
		{0.3, 64, 2, 39},
		{0.5, 42, 3, 64},
		{0.7, 25, 5, 90},
		{0.8, 18, 7, 103},
		{0.9, 11, 11, 116},
		{1, 1, 128, 128},
		{0.01, 128, 1, 2},
	}
	for _, tc := range tests {
		b, r := lshParams(tc.t)
		if b != tc.bands || r != tc.rows || needAgreement(tc.t) != tc.agree {
			t.Errorf("threshold %v: %d bands of %d rows, %d slots; want %d of %d, %d", tc.t, b, r, needAgreement(tc.t), tc.bands, tc.rows, tc.agree)
		}
		if b*r > sigSize {
			t.Errorf("threshold %v: %d bands of %d rows exceed %d slots", tc.t, b, r, sigSize)
		}
	}
}

// TestTextKeyPinned pins the normaliser and the hash family: a change to
// either changes every signature and anchor, so it must come with a new
// snapshot version. Update the constant only then.
func TestTextKeyPinned(t *testing.T) {
	const want = "366666f3c4bd95aa vote no on the referendum share before they delete it"
	if got := textKey("Vote NO on the référendum, share before they delete it! https://x.example/1"); got != want {
		t.Errorf("textKey = %q, want %q: the normaliser or hash family changed; bump SnapshotVersion", got, want)
	}
}

// textPairs runs posts through an engine with only the text signal and
// returns the text edges as "A|B".
func textPairs(t *testing.T, cfg Config, posts ...*post.Post) map[string]int {
	t.Helper()
	cfg.Signals = []post.Kind{post.KindText}
	return weights(run(t, cfg, posts))
}

func run(t testing.TB, cfg Config, posts []*post.Post) *Engine {
	t.Helper()
	e := mustNew(t, cfg)
	for _, p := range posts {
		e.Add(p)
	}
	return e
}

func TestNearDuplicateText(t *testing.T) {
	const orig = "Les médias cachent la vérité sur le programme de Macron : il va supprimer les retraites des Français dès son élection, partagez avant la censure !"
	tests := []struct {
		name string
		text string
		pair bool
	}{
		{"identical", orig, true},
		{"word replaced", strings.Replace(orig, "retraites", "pensions", 1), true},
		{"words swapped", strings.Replace(orig, "la vérité", "vérité la", 1), true},
		{"emoji added", orig + " 🔥🔥", true},
		{"URL added", orig + " https://bit.ly/3xYz?ref=42", true},
		{"mention, shouting, no accents", "@EmmanuelMacron " + strings.ToUpper(strings.NewReplacer("é", "e", "ç", "c").Replace(orig)), true},
		{"sentence dropped", "Les médias cachent la vérité sur le programme de Macron : il va supprimer les retraites des Français dès son élection", true},
		{"same topic, other text", "Macron a présenté son programme sur les retraites, les médias en parlent beaucoup mais les Français restent sceptiques avant l'élection", false},
		{"same topic, same words reordered", "Le programme de Macron sur les retraites des Français est flou, les médias ne posent pas les bonnes questions avant son élection", false},
		{"unrelated", "Beau temps à Marseille aujourd'hui, on va à la plage avec les enfants cet après-midi", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := textPairs(t, Config{}, tp("1", "a", 0, orig), tp("2", "b", 10, tc.text))
			if pair := got["twitter:a|twitter:b"] == 1; pair != tc.pair {
				t.Errorf("paired %v, want %v", pair, tc.pair)
			}
		})
	}
	// Pairing follows the window, and the URL of the copy is not evidence.
	if got := textPairs(t, Config{}, tp("1", "a", 0, orig), tp("2", "b", 61, orig)); len(got) != 0 {
		t.Errorf("copies 61 s apart paired: %v", got)
	}
	if got := textPairs(t, Config{}, tp("1", "a", 0, orig), tp("2", "b", 1, orig), tp("3", "a", 2, orig)); got["twitter:a|twitter:b"] != 1 || len(got) != 1 {
		t.Errorf("own copies: %v, want one pair of weight 1", got)
	}
	// A repost's text is the original's.
	r := tp("2", "b", 1, orig)
	r.RepostOf = "1"
	if got := textPairs(t, Config{}, tp("1", "a", 0, orig), r); len(got) != 0 {
		t.Errorf("repost paired on text: %v", got)
	}
}

func TestTextMinWords(t *testing.T) {
	six := "one two three four five six"
	five := "one two three four five"
	for _, tc := range []struct {
		text     string
		minWords int
		pair     bool
	}{
		{six, 6, true},
		{five, 6, false},
		{five, 0, true}, // default 5
		{"one two three four", 0, false},
		{"一 二三四五", 0, true}, // five Han words
		{"yes", 1, true},
	} {
		got := textPairs(t, Config{TextMinWords: tc.minWords}, tp("1", "a", 0, tc.text), tp("2", "b", 1, tc.text))
		if pair := len(got) == 1; pair != tc.pair {
			t.Errorf("%q with TextMinWords %d: paired %v, want %v", tc.text, tc.minWords, pair, tc.pair)
		}
	}
}

// TestTextThresholdEdge feeds signatures agreeing on exactly the needed
// slots, and one fewer, for several thresholds: the first pair, the
// second does not.
func TestTextThresholdEdge(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, th := range []float64{0.3, 0.5, 0.7, 0.9, 1} {
		need := needAgreement(th)
		for _, agree := range []int{need, need - 1} {
			e := mustNew(t, Config{Signals: []post.Kind{post.KindText}, TextThreshold: th})
			a := make([]uint32, sigSize)
			for i := range a {
				a[i] = r.Uint32()
			}
			b := slices.Clone(a)
			for i := agree; i < sigSize; i++ { // the leading slots agree, so band 0 is shared
				b[i] = ^b[i]
			}
			e.started, e.maxTime = true, t0.UnixNano()
			e.addText(textSig{sig: a, anchor: textAnchor(a)}, e.intern("twitter:a"), t0.UnixNano(), "twitter:1")
			e.addText(textSig{sig: b, anchor: textAnchor(b)}, e.intern("twitter:b"), t0.UnixNano(), "twitter:2")
			if paired := len(weights(e)) == 1; paired != (agree >= need) {
				t.Errorf("threshold %v, %d of %d slots equal (need %d): paired %v", th, agree, sigSize, need, paired)
			}
		}
	}
}

// TestTextFamilyIsOneObject checks the object identity: 30 accounts post
// edited copies of one message within the window, one account twice, and
// the cluster counts one text object, held by all 30, while every edge
// counts it once.
func TestTextFamilyIsOneObject(t *testing.T) {
	r := rand.New(rand.NewPCG(30, 30))
	msg := "Les médias cachent la vérité sur le programme de Macron : il va supprimer les retraites des Français dès son élection, partagez avant la censure !"
	var posts []*post.Post
	for a := range 30 {
		posts = append(posts, tp(fmt.Sprint(a), fmt.Sprintf("acc%02d", a), float64(a), editCopy(r, msg, a)))
	}
	posts = append(posts, tp("again", "acc00", 40, editCopy(r, msg, 0)))
	e := run(t, Config{Signals: []post.Kind{post.KindText}, MinWeight: 1}, posts)
	keys := map[string]bool{}
	edges := e.Edges(1)
	for _, ed := range edges {
		if ed.Weight != 1 || ed.Signals[post.KindText] != 1 {
			t.Errorf("edge %s-%s: weight %d signals %v", ed.A, ed.B, ed.Weight, ed.Signals)
		}
		for _, v := range ed.Evidence {
			keys[v.Key] = true
		}
	}
	if len(keys) != 1 || len(edges) < 30*29/2*3/4 {
		t.Fatalf("%d edges, objects %v; want most of the 435 pairs, one object", len(edges), keys)
	}
	cs := e.Detect()
	if len(cs) != 1 || len(cs[0].Members) != 30 || cs[0].Signals[post.KindText] != 1 ||
		len(cs[0].TopObjects) != 1 || cs[0].TopObjects[0].Count != 30 {
		t.Fatalf("clusters %+v", cs)
	}
	t.Logf("%d of 435 pairs paired; object %q", len(edges), cs[0].TopObjects[0].Key)
}

// shape is an edge without its evidence, whose object names depend on
// which copy of a family arrived first.
type shape struct {
	A, B    string
	Weight  int
	Signals map[post.Kind]int
}

func shapes(e *Engine) []shape {
	var out []shape
	for _, ed := range e.Edges(1) {
		out = append(out, shape{ed.A, ed.B, ed.Weight, ed.Signals})
	}
	return out
}

// TestNearOrderIndependence permutes the arrival of text and media posts
// within Lateness: the pairs and weights do not change.
func TestNearOrderIndependence(t *testing.T) {
	posts := campaign(11, 300, 60, 1200)
	r := rand.New(rand.NewPCG(5, 5))
	for i, p := range posts { // media: the planted accounts share near-identical images
		if strings.HasPrefix(p.Author, "plant") {
			p.MediaHashes = []string{formatPHash(0xc3a1b0f0e8c4d2b1 ^ 1<<r.IntN(64))}
		} else if i%3 == 0 {
			p.MediaHashes = []string{formatPHash(r.Uint64())}
		}
	}
	cfg := Config{Signals: []post.Kind{post.KindText, post.KindMedia}, MinWeight: 1}
	want := shapes(run(t, cfg, posts))
	if len(want) == 0 {
		t.Fatal("no edges")
	}
	for _, seed := range []uint64{1, 2, 3} {
		r := rand.New(rand.NewPCG(seed, 0))
		type timed struct {
			p  *post.Post
			at float64
		}
		var ts []timed
		for _, p := range posts {
			ts = append(ts, timed{p, float64(p.Time.Sub(t0)) + r.Float64()*float64(4*time.Minute)})
		}
		slices.SortFunc(ts, func(x, y timed) int { return cmp.Compare(x.at, y.at) })
		perm := make([]*post.Post, len(ts))
		for i, x := range ts {
			perm[i] = x.p
		}
		if got := shapes(run(t, cfg, perm)); !reflect.DeepEqual(got, want) {
			t.Errorf("seed %d: %d edges differ from the in-order run's %d", seed, len(got), len(want))
		}
	}
}

// TestNearDeterminism runs the same stream twice: same clusters, same
// snapshot bytes.
func TestNearDeterminism(t *testing.T) {
	posts := campaign(12, 500, 100, 1800)
	cfg := Config{Signals: []post.Kind{post.KindText, post.KindHashtagSeq, post.KindMedia}}
	var outs [2][]byte
	var snaps [2]bytes.Buffer
	for i := range 2 {
		e := run(t, cfg, posts)
		b, err := json.Marshal(e.Detect())
		if err != nil {
			t.Fatal(err)
		}
		outs[i] = b
		if err := e.Snapshot(&snaps[i]); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(outs[0], outs[1]) || !bytes.Equal(snaps[0].Bytes(), snaps[1].Bytes()) {
		t.Error("two runs of the same stream differ")
	}
}

// TestPlantedTextCampaign plants 20 accounts posting edited copies of 5
// messages, each within a minute, amid 2000 organic texts on the same
// topics by 400 accounts over half an hour: with only the text signal, the
// 20 are one cluster and no organic account is clustered.
func TestPlantedTextCampaign(t *testing.T) {
	posts := campaign(1, 2000, 400, 1800)
	e := run(t, Config{Signals: []post.Kind{post.KindText}}, posts)
	cs := e.Detect()
	if len(cs) != 1 {
		t.Fatalf("%d clusters, want 1: %+v", len(cs), cs)
	}
	c := cs[0]
	for _, m := range c.Members {
		if !strings.HasPrefix(m, "twitter:plant") {
			t.Errorf("organic account %s clustered", m)
		}
	}
	if len(c.Members) != 20 || c.Signals[post.KindText] != 5 {
		t.Errorf("cluster of %d members and %d text objects, want 20 and 5", len(c.Members), c.Signals[post.KindText])
	}
	organic, planted := 0, 0
	for _, ed := range e.Edges(1) {
		if strings.HasPrefix(ed.A, "twitter:plant") && strings.HasPrefix(ed.B, "twitter:plant") {
			planted++
		} else {
			organic++
		}
	}
	if organic > 10 {
		t.Errorf("%d edges involve organic accounts", organic)
	}
	t.Logf("planted edges %d of 190 (weights %v), organic edges %d", planted, weightHist(e), organic)
}

func weightHist(e *Engine) map[int]int {
	h := map[int]int{}
	for _, ed := range e.Edges(1) {
		h[ed.Weight]++
	}
	return h
}

// BenchmarkTextSignature measures normalising, shingling and signing a
// tweet-sized text.
func BenchmarkTextSignature(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	texts := make([]string, 1000)
	chars := 0
	for i := range texts {
		texts[i] = organicText(r)
		chars += len(texts[i])
	}
	var s signer
	b.ReportAllocs()
	i := 0
	start := time.Now()
	for b.Loop() {
		s.sign(texts[i%len(texts)], DefaultTextMinWords)
		i++
	}
	b.ReportMetric(float64(i)/time.Since(start).Seconds(), "texts/s")
	b.ReportMetric(float64(chars)/float64(len(texts)), "bytes/text")
}

// BenchmarkNearLookup measures finding, checking and pairing candidates
// and indexing one action, with the window holding about `window`
// others: organic texts or random image hashes, one in ten a
// near-duplicate of a recent one.
func BenchmarkNearLookup(b *testing.B) {
	const window = 20_000 // actions per Window (60 s): 333 per second
	step := time.Minute / window
	b.Run("text", func(b *testing.B) {
		r := rand.New(rand.NewPCG(1, 3))
		sigs := make([]textSig, 4096)
		for i := range sigs {
			if i > 0 && i%10 == 0 {
				sigs[i] = sigs[i-1]
			} else {
				sigs[i], _ = signText(organicText(r), 1)
			}
		}
		e := mustNew(b, Config{Signals: []post.Kind{post.KindText}})
		benchNear(b, e, step, func(i int, acc uint32, t int64) {
			// A new text each time: the pool's signature with every slot
			// moved by the round through the pool.
			ts := sigs[i%len(sigs)]
			ts.sig = slices.Clone(ts.sig)
			for j := range ts.sig {
				ts.sig[j] ^= uint32(i / len(sigs))
			}
			e.addText(ts, acc, t, "twitter:"+fmt.Sprint(i))
		})
	})
	b.Run("media", func(b *testing.B) {
		r := rand.New(rand.NewPCG(1, 4))
		hs := make([]uint64, 4096)
		for i := range hs {
			hs[i] = r.Uint64()
			if i > 0 && i%10 == 0 {
				hs[i] = hs[i-1] ^ 1<<r.IntN(64) ^ 1<<r.IntN(64)
			}
		}
		e := mustNew(b, Config{Signals: []post.Kind{post.KindMedia}})
		benchNear(b, e, step, func(i int, acc uint32, t int64) {
			e.addMedia(hs[i%len(hs)]^mix64(uint64(i/len(hs))), acc, t, "twitter:"+fmt.Sprint(i))
		})
	})
}

func benchNear(b *testing.B, e *Engine, step time.Duration, add func(i int, acc uint32, t int64)) {
	accs := make([]uint32, 5000)
	for i := range accs {
		accs[i] = e.intern(fmt.Sprint("twitter:a", i))
	}
	e.started = true
	i := 0
	next := func() {
		t := t0.Add(time.Duration(i) * step).UnixNano()
		e.maxTime = t
		add(i, accs[i%len(accs)], t)
		i++
		if e.maxTime >= e.nextSweep {
			e.sweep()
			e.nextSweep = e.maxTime + e.sweepGap
		}
		if e.maxTime >= e.nextNearSweep {
			e.sweepNear()
		}
	}
	for range int(2 * time.Minute / step) { // fill the window first
		next()
	}
	pairs := e.stats.Pairs
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		next()
		n++
	}
	b.StopTimer()
	b.ReportMetric(float64(e.stats.Pairs-pairs)/float64(n), "pairs/op")
	st := e.Stats()
	b.ReportMetric(float64(st.NearBuckets), "buckets")
	b.ReportMetric(float64(st.NearActions), "held")
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/float64(max(1, st.NearActions)), "heapB/held")
	runtime.KeepAlive(e)
}

func TestHashtagSeq(t *testing.T) {
	long := make([]string, post.MaxListLen)
	for i := range long {
		long[i] = strings.Repeat("x", 100) + fmt.Sprint(i)
	}
	longer := slices.Clone(long)
	longer[len(longer)-1] = "other"
	tests := []struct {
		name string
		tags []string
		want string
	}{
		{"ordered, normalised as hashtags", []string{"#Vote", "France", "#vote"}, "#vote #france #vote"},
		{"one hashtag is no sequence", []string{"#vote"}, ""},
		{"empty tags dropped", []string{"#", "#vote"}, ""},
		{"none", nil, ""},
	}
	for _, tc := range tests {
		if got := hashtagSeqKey(tc.tags, 2); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := hashtagSeqKey([]string{"#a", "#b", "#c"}, 4); got != "" {
		t.Errorf("3 hashtags with a minimum of 4: %q", got)
	}
	if got := hashtagSeqKey([]string{"#a", "#b", "#c", "#d"}, 4); got != "#a #b #c #d" {
		t.Errorf("4 hashtags with a minimum of 4: %q", got)
	}
	a, b := hashtagSeqKey(long, 2), hashtagSeqKey(longer, 2)
	if len(a) > maxSeqKey || len(b) > maxSeqKey || a == b || !utf8.ValidString(a) {
		t.Errorf("long sequences: keys of %d and %d bytes, equal %v", len(a), len(b), a == b)
	}

	seq := func(id, author string, sec float64, tags ...string) *post.Post {
		p := tp(id, author, sec, "")
		p.Hashtags = tags
		return p
	}
	cfg := Config{Signals: []post.Kind{post.KindHashtagSeq}}
	for _, tc := range []struct {
		name string
		a, b []string
		pair bool
	}{
		{"same sequence", []string{"#A", "#b", "#c"}, []string{"#a", "#B", "#c"}, true},
		{"other order", []string{"#a", "#b", "#c"}, []string{"#a", "#c", "#b"}, false},
		{"prefix", []string{"#a", "#b", "#c"}, []string{"#a", "#b"}, false},
		{"pair of hashtags", []string{"#a", "#b"}, []string{"#a", "#b"}, true},
		{"pair under a minimum of 3", []string{"#a", "#b"}, []string{"#a", "#b"}, false},
		{"three at a minimum of 3", []string{"#a", "#b", "#c"}, []string{"#a", "#b", "#c"}, true},
	} {
		c := cfg
		if strings.Contains(tc.name, "minimum of 3") {
			c.HashtagSeqMin = 3
		}
		got := weights(run(t, c, []*post.Post{seq("1", "a", 0, tc.a...), seq("2", "b", 1, tc.b...)}))
		if pair := len(got) == 1; pair != tc.pair {
			t.Errorf("%s: paired %v, want %v", tc.name, pair, tc.pair)
		}
	}
	r := seq("2", "b", 1, "#a", "#b")
	r.RepostOf = "1"
	if got := Actions(r, []post.Kind{post.KindHashtagSeq}); len(got) != 0 {
		t.Errorf("repost yields %v", got)
	}
}

// nearStream is campaign's stream with media and hashtags: the planted
// accounts attach re-encoded copies of one image per message and a
// hashtag sequence per message, organic posts random images and tags.
func nearStream(seed uint64, organic, organicAccounts int, span float64) []*post.Post {
	r := rand.New(rand.NewPCG(seed, 0x3ed1a))
	posts := campaign(seed, organic, organicAccounts, span)
	for _, p := range posts {
		if strings.HasPrefix(p.Author, "plant") {
			m := p.ID[1] - '0'
			p.MediaHashes = []string{formatPHash(uint64(m)*0x9e3779b97f4a7c15 ^ 1<<r.IntN(64))}
			p.Hashtags = []string{"#macron", fmt.Sprint("#msg", m), "#presidentielle"}
			continue
		}
		if r.IntN(3) == 0 {
			p.MediaHashes = []string{formatPHash(r.Uint64())}
		}
		for range r.IntN(4) {
			p.Hashtags = append(p.Hashtags, "#"+topicWords[r.IntN(len(topicWords))])
		}
	}
	return posts
}

// mergeByTime interleaves extra, sorted by time, into posts, which may be
// out of order by less than Lateness: each extra post goes before the
// first post of posts later than it.
func mergeByTime(posts, extra []*post.Post) []*post.Post {
	out := make([]*post.Post, 0, len(posts)+len(extra))
	j := 0
	for _, p := range posts {
		for j < len(extra) && !extra[j].Time.After(p.Time) {
			out = append(out, extra[j])
			j++
		}
		out = append(out, p)
	}
	return append(out, extra[j:]...)
}

// TestNearMemoryBounded feeds 12 hours of ever new texts and images (and
// a copy of each within seconds, so families form and pair) and checks
// that the near-duplicate indexes stop growing.
func TestNearMemoryBounded(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	e := mustNew(t, Config{Signals: []post.Kind{post.KindText, post.KindMedia}})
	const perHour = 200
	var mid Stats
	n := 0
	for hour := range 12 {
		for i := range perHour {
			sec := float64(hour*3600) + float64(i)*3600/perHour
			text, img := organicText(r), formatPHash(r.Uint64())
			for c := range 2 {
				p := tp(fmt.Sprint(n), fmt.Sprint("a", r.IntN(500)), sec+float64(c), text)
				p.MediaHashes = []string{img}
				e.Add(p)
				n++
			}
		}
		if hour == 5 {
			mid = e.Stats()
		}
	}
	end := e.Stats()
	if end.Pairs == 0 || end.NearActions == 0 {
		t.Fatalf("nothing indexed or paired: %+v", end)
	}
	// Window+Lateness (6 min) holds 2*perHour/10 posts, each a text in 25
	// buckets and an image in 7; stale ones are freed within another 6
	// minutes.
	held := 2 * 2 * perHour / 10
	if end.NearActions > 2*held || end.NearBuckets > 2*held*(25+7)/2 || end.NearBuckets > 2*mid.NearBuckets+100 {
		t.Errorf("near indexes grow: at 6h %d actions in %d buckets, at 12h %d in %d", mid.NearActions, mid.NearBuckets, end.NearActions, end.NearBuckets)
	}
}

// TestRestoreNearErrors corrupts the near-duplicate part of a snapshot
// and checks that Restore refuses it, naming the fault, and leaves the
// engine as it was.
func TestRestoreNearErrors(t *testing.T) {
	cfg := Config{Signals: []post.Kind{post.KindText, post.KindMedia}}
	posts := nearStream(2, 200, 50, 120)
	e := run(t, cfg, posts)
	var snap bytes.Buffer
	if err := e.Snapshot(&snap); err != nil {
		t.Fatal(err)
	}
	decode := func() snapState {
		dec := gob.NewDecoder(bytes.NewReader(snap.Bytes()))
		var h snapHeader
		var s snapState
		if err := dec.Decode(&h); err != nil {
			t.Fatal(err)
		}
		if err := dec.Decode(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := decode(); len(s.Text.Entries) == 0 || len(s.Media.Entries) == 0 {
		t.Fatalf("snapshot holds %d texts and %d images", len(s.Text.Entries), len(s.Media.Entries))
	}
	tests := []struct {
		name    string
		breakIt func(s *snapState)
		want    string
	}{
		{"unknown entry", func(s *snapState) { s.Text.Entries = s.Text.Entries[1:] }, "unknown entry"},
		{"short signature", func(s *snapState) { s.Text.Entries[0].Sig = s.Text.Entries[0].Sig[:10] }, "signature of 10 slots"},
		{"object of another kind", func(s *snapState) { s.Media.Entries[0].ObjH = s.Text.Entries[0].ObjH }, "object of another kind"},
		{"entry twice", func(s *snapState) { s.Media.Entries = append(s.Media.Entries, s.Media.Entries[0]) }, "listed twice"},
		{"bucket out of order", func(s *snapState) {
			for i, b := range s.Text.Buckets {
				if len(b.Seqs) > 1 {
					slices.Reverse(s.Text.Buckets[i].Seqs)
					return
				}
			}
			t.Fatal("no bucket of two entries")
		}, "out of order"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := decode()
			tc.breakIt(&s)
			var b bytes.Buffer
			enc := gob.NewEncoder(&b)
			if err := enc.Encode(snapHeader{Magic: snapshotMagic, Version: SnapshotVersion}); err != nil {
				t.Fatal(err)
			}
			if err := enc.Encode(&s); err != nil {
				t.Fatal(err)
			}
			n := mustNew(t, cfg)
			n.Add(posts[0])
			before := n.Stats()
			err := n.Restore(&b)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %q", err, tc.want)
			}
			if after := n.Stats(); after != before {
				t.Error("failed restore changed the engine")
			}
		})
	}
}
