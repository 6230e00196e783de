// Package election describes the election Vigie watches: its candidates
// (names, aliases, handles, parties, the hashtags their camps and their
// opponents use), its languages and its dates. Stance scoring reads it to
// know who a post is about and which hashtags take sides.
//
// An election is a YAML file an analyst writes before the campaign (see
// deploy/elections/template.yml); the 2017 French presidential election is
// embedded as the default, because the bundled scenario models it. A file
// with mistakes is refused with every error at once, each naming its
// field path (candidates[2].hashtags.favour[0]: empty), since a silently
// ignored alias means posts about a candidate read as neutral.
package election

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

//go:embed fr2017.yml
var fr2017 []byte

// FR2017 returns the raw embedded 2017 French presidential election file.
func FR2017() []byte { return bytes.Clone(fr2017) }

// Date is a calendar day written 2006-01-02.
type Date struct{ time.Time }

// UnmarshalYAML reads a day in ISO form.
func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	t, err := time.Parse("2006-01-02", n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a date like 2017-05-07", n.Line, n.Value)
	}
	d.Time = t
	return nil
}

// MarshalYAML writes the day in ISO form.
func (d Date) MarshalYAML() (any, error) { return d.Format("2006-01-02"), nil }

// Election is one election's description.
type Election struct {
	Name string `yaml:"name"`
	// Languages the stance model reads (ISO 639-1). Posts in other
	// languages are read with every known lexicon.
	Languages []string `yaml:"languages"`
	// Start and End bound the campaign (End inclusive).
	Start Date `yaml:"start"`
	End   Date `yaml:"end"`
	// Timezone of the electorate (IANA name), for night activity.
	// Default UTC.
	Timezone string `yaml:"timezone"`
	// NeutralHashtags are about the election itself and never take a side.
	NeutralHashtags []string    `yaml:"neutral_hashtags"`
	Candidates      []Candidate `yaml:"candidates"`

	loc *time.Location
}

// Candidate is one candidate and the words that name their camp.
type Candidate struct {
	// ID is short, lower case, stable: clusters and alerts name targets
	// by it.
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	// Aliases name the candidate in text (one or more words each).
	Aliases []string `yaml:"aliases"`
	// Handles are the candidate's accounts, without '@'.
	Handles  []string `yaml:"handles"`
	Party    Party    `yaml:"party"`
	Hashtags Hashtags `yaml:"hashtags"`
}

// Party is the candidate's party or movement; naming it names the camp.
type Party struct {
	Name    string   `yaml:"name"`
	Aliases []string `yaml:"aliases"`
	Handles []string `yaml:"handles"`
}

// Hashtags are the seed hashtags of a candidate, without '#'. Favour and
// smear seed the stance propagation; mention only names the candidate.
type Hashtags struct {
	Favour  []string `yaml:"favour"`
	Smear   []string `yaml:"smear"`
	Mention []string `yaml:"mention"`
}

// Default returns the embedded 2017 French presidential election.
func Default() *Election {
	e, err := Parse(fr2017)
	if err != nil {
		panic("election: embedded fr2017.yml: " + err.Error()) // a test keeps it valid
	}
	return e
}

// Load reads and validates an election file; an empty path gives Default.
func Load(path string) (*Election, error) {
	if path == "" {
		return Default(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("election: %w", err)
	}
	e, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("election %s: %w", path, err)
	}
	return e, nil
}

// Parse reads and validates an election from YAML. Unknown keys are
// errors: a misspelt "hashtag:" must not silently drop a candidate's seeds.
func Parse(b []byte) (*Election, error) {
	var e Election
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&e); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FieldError{Path: "", Reason: "empty file"}
		}
		return nil, fmt.Errorf("parse: %w", err)
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return &e, nil
}

// FieldError names a field of the election file by its path.
type FieldError struct {
	Path   string // e.g. candidates[1].hashtags.smear[0]
	Reason string
}

func (e *FieldError) Error() string {
	if e.Path == "" {
		return e.Reason
	}
	return e.Path + ": " + e.Reason
}

// Validate checks the election and reports every problem at once (as
// errors.Join of *FieldError).
func (e *Election) Validate() error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, &FieldError{Path: path, Reason: fmt.Sprintf(format, args...)})
	}
	if strings.TrimSpace(e.Name) == "" {
		bad("name", "missing")
	}
	if len(e.Languages) == 0 {
		bad("languages", "list at least one language (ISO 639-1, e.g. fr)")
	}
	for i, l := range e.Languages {
		if len(l) != 2 || strings.ToLower(l) != l || !isLetters(l) {
			bad(fmt.Sprintf("languages[%d]", i), "%q is not a two-letter ISO 639-1 code", l)
		}
	}
	if e.Start.IsZero() {
		bad("start", "missing")
	}
	if e.End.IsZero() {
		bad("end", "missing")
	}
	if !e.Start.IsZero() && !e.End.IsZero() && e.End.Before(e.Start.Time) {
		bad("end", "%s is before start %s", e.End.Format("2006-01-02"), e.Start.Format("2006-01-02"))
	}
	e.loc = time.UTC
	if e.Timezone != "" {
		loc, err := time.LoadLocation(e.Timezone)
		if err != nil {
			bad("timezone", "%q is not an IANA time zone (e.g. Europe/Paris)", e.Timezone)
		} else {
			e.loc = loc
		}
	}
	checkTags := func(path string, tags []string) {
		for i, t := range tags {
			if msg := badHashtag(t); msg != "" {
				bad(fmt.Sprintf("%s[%d]", path, i), "%s", msg)
			}
		}
	}
	checkTags("neutral_hashtags", e.NeutralHashtags)
	if len(e.Candidates) == 0 {
		bad("candidates", "list at least one candidate")
	}
	ids := map[string]int{}
	// seedOwner tells which candidate and list a seed hashtag belongs to,
	// so the same tag cannot favour one candidate in two places or be both
	// a favour and a smear seed of one candidate.
	seedOwner := map[string]string{}
	for _, t := range e.NeutralHashtags {
		seedOwner[Fold(t)] = "neutral_hashtags"
	}
	for i, c := range e.Candidates {
		p := fmt.Sprintf("candidates[%d]", i)
		switch {
		case c.ID == "":
			bad(p+".id", "missing")
		case !isID(c.ID):
			bad(p+".id", "%q must be lower-case letters, digits, '-' or '_'", c.ID)
		default:
			if j, dup := ids[c.ID]; dup {
				bad(p+".id", "%q is also candidates[%d].id", c.ID, j)
			}
			ids[c.ID] = i
		}
		if strings.TrimSpace(c.Name) == "" {
			bad(p+".name", "missing")
		}
		if len(c.Aliases) == 0 {
			bad(p+".aliases", "list at least one name the candidate is called by in posts")
		}
		for j, a := range c.Aliases {
			if strings.TrimSpace(a) == "" {
				bad(fmt.Sprintf("%s.aliases[%d]", p, j), "empty")
			}
		}
		for j, a := range c.Party.Aliases {
			if strings.TrimSpace(a) == "" {
				bad(fmt.Sprintf("%s.party.aliases[%d]", p, j), "empty")
			}
		}
		for _, hs := range []struct {
			path string
			v    []string
		}{{p + ".handles", c.Handles}, {p + ".party.handles", c.Party.Handles}} {
			for j, h := range hs.v {
				if msg := badHandle(h); msg != "" {
					bad(fmt.Sprintf("%s[%d]", hs.path, j), "%s", msg)
				}
			}
		}
		checkTags(p+".hashtags.favour", c.Hashtags.Favour)
		checkTags(p+".hashtags.smear", c.Hashtags.Smear)
		checkTags(p+".hashtags.mention", c.Hashtags.Mention)
		for _, l := range []struct {
			name string
			v    []string
		}{{"favour", c.Hashtags.Favour}, {"smear", c.Hashtags.Smear}} {
			for j, t := range l.v {
				path := fmt.Sprintf("%s.hashtags.%s[%d]", p, l.name, j)
				if prev, dup := seedOwner[Fold(t)]; dup {
					bad(path, "#%s is already listed in %s", t, prev)
					continue
				}
				seedOwner[Fold(t)] = path
			}
		}
	}
	return errors.Join(errs...)
}

// Location is the electorate's time zone (UTC when none is set).
func (e *Election) Location() *time.Location {
	if e.loc == nil {
		return time.UTC
	}
	return e.loc
}

// Candidate returns the candidate with the given ID.
func (e *Election) Candidate(id string) (Candidate, bool) {
	for _, c := range e.Candidates {
		if c.ID == id {
			return c, true
		}
	}
	return Candidate{}, false
}

// IDs lists the candidate IDs in file order.
func (e *Election) IDs() []string {
	out := make([]string, len(e.Candidates))
	for i, c := range e.Candidates {
		out[i] = c.ID
	}
	return out
}

// Fold normalises a word or hashtag for matching: lower case, accents
// removed, a leading '#' or '@' dropped. "#MacronPrésident" and
// "macronpresident" fold alike.
func Fold(s string) string {
	s = strings.TrimLeft(s, "#@")
	if isLowerASCII(s) {
		return s // the common case: nothing to fold, nothing to allocate
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		r = unicode.ToLower(r)
		if r < utf8.RuneSelf {
			b.WriteRune(r)
			continue
		}
		if f, ok := foldTable[r]; ok {
			b.WriteString(f)
			continue
		}
		if unicode.Is(unicode.Mn, r) {
			continue // a combining accent of a decomposed letter
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isLowerASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || c >= 'A' && c <= 'Z' {
			return false
		}
	}
	return true
}

// foldTable maps the accented Latin letters of the languages Vigie reads
// (French, English, Spanish, German, Italian, Portuguese) to ASCII. A
// table, not Unicode normalisation, keeps the module free of x/text.
var foldTable = map[rune]string{
	'à': "a", 'â': "a", 'ä': "a", 'á': "a", 'ã': "a", 'å': "a",
	'é': "e", 'è': "e", 'ê': "e", 'ë': "e",
	'î': "i", 'ï': "i", 'í': "i", 'ì': "i",
	'ô': "o", 'ö': "o", 'ó': "o", 'ò': "o", 'õ': "o",
	'ù': "u", 'û': "u", 'ü': "u", 'ú': "u",
	'ç': "c", 'ñ': "n", 'ÿ': "y", 'ß': "ss",
	'œ': "oe", 'æ': "ae",
	'’': "'", '‘': "'", 'ʼ': "'",
}

func badHashtag(t string) string {
	t = strings.TrimPrefix(t, "#")
	switch {
	case t == "":
		return "empty"
	case !utf8.ValidString(t):
		return "invalid UTF-8"
	}
	for _, r := range t {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || unicode.Is(unicode.Mn, r)) {
			return fmt.Sprintf("%q: a hashtag holds letters, digits and '_' only", t)
		}
	}
	return ""
}

func badHandle(h string) string {
	h = strings.TrimPrefix(h, "@")
	if h == "" {
		return "empty"
	}
	for _, r := range h {
		if !(r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) || r == '_' || r == '.' || r == '-') {
			return fmt.Sprintf("%q: a handle holds ASCII letters, digits, '_', '.' and '-' only", h)
		}
	}
	return ""
}

func isID(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return s != ""
}

func isLetters(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}
