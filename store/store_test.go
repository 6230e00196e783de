package store

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseText(t *testing.T) {
	w := func(s string) TextTerm { return TextTerm{Text: s} }
	for _, tc := range []struct {
		in   string
		want []TextTerm
	}{
		{"", nil},
		{"   \t", nil},
		{"macron", []TextTerm{w("macron")}},
		{"  macron   vote ", []TextTerm{w("macron"), w("vote")}},
		{`"second tour"`, []TextTerm{{Text: "second tour", Phrase: true}}},
		{`"second tour"* x`, []TextTerm{{Text: "second tour", Phrase: true, Prefix: true}, w("x")}},
		{"macr*", []TextTerm{{Text: "macr", Prefix: true}}},
		{"macr**", []TextTerm{{Text: "macr", Prefix: true}}},
		{"*macr", []TextTerm{w("*macr")}},
		{`"unbalanced phrase`, []TextTerm{{Text: "unbalanced phrase", Phrase: true}}},
		{`a"b c"d`, []TextTerm{w("a"), {Text: "b c", Phrase: true}, w("d")}},
		{`* " "" ** ( ) -`, nil},
		{"AND OR NEAR(", []TextTerm{w("AND"), w("OR"), w("NEAR(")}},
		{"a\x00b", []TextTerm{w("a"), w("b")}},
		{"caf\xe9 ok", []TextTerm{w("caf"), w("ok")}},
		{"élection 日本語 🇫🇷", []TextTerm{w("élection"), w("日本語")}},
		{strings.Repeat("x ", MaxQueryTerms+10), slices.Repeat([]TextTerm{w("x")}, MaxQueryTerms)},
	} {
		if got := ParseText(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("ParseText(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestNormalized(t *testing.T) {
	t0 := time.Date(2017, 5, 5, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		norm      func() (limit int, err error)
		wantLimit int
		wantField string // "" for no error
	}{
		{"post default", func() (int, error) { q, err := PostQuery{}.Normalized(); return q.Limit, err }, DefaultLimit, ""},
		{"post cap", func() (int, error) { q, err := PostQuery{Limit: 5000}.Normalized(); return q.Limit, err }, MaxLimit, ""},
		{"post kept", func() (int, error) { q, err := PostQuery{Limit: 7}.Normalized(); return q.Limit, err }, 7, ""},
		{"post negative limit", func() (int, error) { q, err := PostQuery{Limit: -1}.Normalized(); return q.Limit, err }, 0, "limit"},
		{"post negative offset", func() (int, error) { q, err := PostQuery{Offset: -1}.Normalized(); return q.Limit, err }, 0, "offset"},
		{"post reversed range", func() (int, error) {
			q, err := PostQuery{From: t0, To: t0.Add(-1)}.Normalized()
			return q.Limit, err
		}, 0, "to"},
		{"post empty range", func() (int, error) { q, err := PostQuery{From: t0, To: t0}.Normalized(); return q.Limit, err }, DefaultLimit, ""},
		{"cluster bad status", func() (int, error) { q, err := ClusterQuery{Status: "Active"}.Normalized(); return q.Limit, err }, 0, "status"},
		{"cluster NaN risk", func() (int, error) {
			q, err := ClusterQuery{MinRisk: math.NaN()}.Normalized()
			return q.Limit, err
		}, 0, "min_risk"},
		{"cluster negative offset", func() (int, error) { q, err := ClusterQuery{Offset: -3}.Normalized(); return q.Limit, err }, 0, "offset"},
		{"alert cap", func() (int, error) { q, err := AlertQuery{Limit: 1001}.Normalized(); return q.Limit, err }, MaxLimit, ""},
		{"alert negative limit", func() (int, error) { q, err := AlertQuery{Limit: -1}.Normalized(); return q.Limit, err }, 0, "limit"},
	} {
		limit, err := tc.norm()
		var qe *QueryError
		switch {
		case tc.wantField == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantField == "" && limit != tc.wantLimit:
			t.Errorf("%s: limit %d, want %d", tc.name, limit, tc.wantLimit)
		case tc.wantField != "" && (!errors.As(err, &qe) || qe.Field != tc.wantField || !errors.Is(err, ErrInvalidQuery)):
			t.Errorf("%s: error %v, want a QueryError on %q", tc.name, err, tc.wantField)
		}
	}
	q, err := ClusterQuery{}.Normalized()
	if err != nil || q.Status != "active" {
		t.Errorf("empty status normalizes to %q, %v; want active", q.Status, err)
	}
	p, err := PostQuery{Hashtag: " #MacronLeaks"}.Normalized()
	if err != nil || p.Hashtag != "macronleaks" {
		t.Errorf("hashtag normalizes to %q, %v", p.Hashtag, err)
	}
}
