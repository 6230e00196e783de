package elastic

import (
	"database/sql"
	"slices"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // the reference tokenizer: SQLite FTS5 unicode61

	"github.com/vigie-osint/vigie/store/storetest"
)

// fts5 tokenizes texts with the embedded store's FTS5 tokenizer, so the
// Elasticsearch store's Go tokenizer can be compared with the real thing.
type fts5 struct {
	db *sql.DB
}

func openFTS5(tb testing.TB) *fts5 {
	tb.Helper()
	db, err := sql.Open("sqlite", "file::memory:")
	if err != nil {
		tb.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	tb.Cleanup(func() { db.Close() })
	for _, q := range []string{
		`CREATE VIRTUAL TABLE t USING fts5(x, tokenize = 'unicode61 remove_diacritics 2')`,
		`CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')`,
	} {
		if _, err := db.Exec(q); err != nil {
			tb.Fatal(err)
		}
	}
	return &fts5{db: db}
}

func (f *fts5) tokens(tb testing.TB, s string) []string {
	tb.Helper()
	if _, err := f.db.Exec("DELETE FROM t"); err != nil {
		tb.Fatal(err)
	}
	if _, err := f.db.Exec("INSERT INTO t(rowid, x) VALUES (1, ?)", s); err != nil {
		tb.Fatal(err)
	}
	rows, err := f.db.Query("SELECT term FROM v ORDER BY offset")
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			tb.Fatal(err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// termSamples are texts of the kinds Vigie indexes, and the suite's
// hostile queries.
var termSamples = append([]string{
	"Les #MacronLeaks: lisez avant le silence électoral 🇫🇷 https://example.org/a",
	"L'élection présidentielle, c'est dimanche !",
	"ÉLECTION Présidentielle ÇA Œuvre Straße İstanbul ÀÉÎÕÜ àéîõü ñ ø å æ ł đ ħ",
	"日本語のテキスト 中文 한국어 русский ЁЖИК ελληνικά άέή",
	"macron_leaks macron-leaks macron.leaks 3,14 1.000.000 2017-05-05 12h30",
	"e\u0301 a\u0300b \u200b zero\u200dwidth",
	"x²³ ½ ① Ⅻ ٣ १२",
	"\ue000private\U000f0000use",
	"😀emoji😀 ça",
}, storetest.HostileTexts()...)

// knownDiffs are the samples on which this tokenizer knowingly differs
// from FTS5 (see terms.go: characters assigned after Unicode 6.1), with
// what it gives instead.
var knownDiffs = map[string][]string{
	"émoji 🙂 ça": {"emoji", "ca"},
}

func TestTermsMatchFTS5(t *testing.T) {
	f := openFTS5(t)
	for _, s := range termSamples {
		s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", " "), " ")
		want := f.tokens(t, s)
		if d, ok := knownDiffs[s]; ok {
			want = d
		}
		if got := tokens(s); !slices.Equal(got, want) {
			t.Errorf("tokens(%.60q)\n got %q\nwant %q (FTS5)", s, got, want)
		}
	}
}

// FuzzTerms checks the tokenizer's invariants on any input: tokens are
// non-empty, hold no separator, and are stable under re-tokenizing (the
// query side tokenizes what the index side produced).
func FuzzTerms(f *testing.F) {
	for _, s := range termSamples {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts := tokens(s)
		for _, tok := range ts {
			if tok == "" || strings.ContainsAny(tok, " \t\n") {
				t.Fatalf("tokens(%q) has bad token %q", s, tok)
			}
		}
		if again := tokens(terms(s)); !slices.Equal(again, ts) {
			t.Fatalf("tokens(terms(%q)) = %q, want %q", s, again, ts)
		}
	})
}
