// Package sources is the registry of Vigie's ingest formats and live
// sources: it maps the names used by `ingest.format` and `vigie ingest
// file --format` to the readers in package ingest and its platform
// subpackages. It sits above them so that package ingest, which they all
// import, never imports its children.
package sources

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/ingest/telegram"
	"github.com/vigie-osint/vigie/ingest/twitter"
	"github.com/vigie-osint/vigie/post"
)

// File format names.
const (
	FormatJSONL       = "jsonl"          // Vigie's post JSON, one per line
	FormatJSONMapped  = "json"           // any JSON lines, through a field mapping
	FormatCooRTweet   = "coortweet"      // CooRTweet's CSV (either layout)
	FormatCNT         = "cnt"            // the Coordination Network Toolkit's CSV
	FormatCSV         = "csv"            // any CSV with a header, through a field mapping
	FormatTwitterV1   = "twitter-v1"     // API v1.1 tweets, one per line
	FormatTwitterV2   = "twitter-v2"     // API v2 response pages, one per line
	FormatTwarc2      = "twarc2"         // twarc2 output (pages or flattened tweets)
	FormatIOArchive   = "io-archive"     // Twitter's information-operations archive CSV
	FormatTelegram    = "telegram"       // Telegram Desktop's result.json
	formatIOArchiveV0 = twitter.FormatIO // "twitter-io", the name twitter.Open knows
)

// Live source names, for `ingest.format` with `ingest.source` naming the
// endpoint (see OpenLive).
const (
	LiveTwitter  = "twitter-stream"
	LiveMastodon = "mastodon"
	LiveBluesky  = "bluesky"
)

// formatDocs describes each file format, in the order help texts list them.
var formatDocs = []struct{ name, doc string }{
	{FormatJSONL, "Vigie's post JSON, one per line (vigie gen, exports)"},
	{FormatJSONMapped, "any JSON lines, fields named by ingest.mapping.* (dotted for nested)"},
	{FormatCooRTweet, "CooRTweet CSV: object_id,account_id,content_id,timestamp_share, or the German posts layout"},
	{FormatCNT, "Coordination Network Toolkit CSV"},
	{FormatCSV, "any CSV with a header, columns named by ingest.mapping.*"},
	{FormatTwitterV1, "Twitter API v1.1 tweets, one per line (stream captures, twarc1)"},
	{FormatTwitterV2, "Twitter API v2 response pages, one per line"},
	{FormatTwarc2, "twarc2 output: v2 pages or flattened tweets, one per line"},
	{FormatIOArchive, "Twitter information-operations archive tweets CSV"},
	{FormatTelegram, "Telegram Desktop export: result.json or its directory"},
}

// Formats lists the file formats.
func Formats() []string {
	out := make([]string, len(formatDocs))
	for i, f := range formatDocs {
		out[i] = f.name
	}
	return out
}

// LiveSources lists the live source names.
func LiveSources() []string { return []string{LiveTwitter, LiveMastodon, LiveBluesky} }

// All lists every name `ingest.format` accepts: file formats, then live
// sources.
func All() []string { return append(Formats(), LiveSources()...) }

// FormatHelp is a table of the file formats for help texts.
func FormatHelp() string {
	var b strings.Builder
	for _, f := range formatDocs {
		fmt.Fprintf(&b, "  %-11s %s\n", f.name, f.doc)
	}
	return b.String()
}

// IsFile reports whether name is a file format.
func IsFile(name string) bool { return slices.Contains(Formats(), normal(name)) }

// IsLive reports whether name is a live source.
func IsLive(name string) bool { return slices.Contains(LiveSources(), normal(name)) }

func normal(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == formatIOArchiveV0 {
		return FormatIOArchive
	}
	return name
}

// FileOptions select and configure a file source.
type FileOptions struct {
	Format string
	Path   string
	// ObjectKind is what CooRTweet's object_id column holds (default
	// repost); see ingest.CSVOptions.
	ObjectKind post.Kind
	// Platform is the platform of CSV accounts without a tw_/fb_ prefix,
	// and of mapped records without a platform field.
	Platform post.Platform
	// Mapping names the columns or fields of the csv and json formats.
	Mapping ingest.FieldMapping
	Log     *slog.Logger
}

// OpenFile opens a file source in opts.Format at from (zero: the start).
func OpenFile(ctx context.Context, opts FileOptions, from ingest.Position) (ingest.Source, error) {
	if opts.Path == "" {
		return nil, fmt.Errorf("ingest: no source file given")
	}
	switch normal(opts.Format) {
	case FormatJSONL:
		return ingest.OpenJSONL(opts.Path, from)
	case FormatJSONMapped:
		m := opts.Mapping
		if m.DefaultPlatform == "" {
			m.DefaultPlatform = opts.Platform
		}
		return ingest.OpenMappedJSONL(opts.Path, m, from)
	case FormatCooRTweet:
		return ingest.OpenCSV(opts.Path, ingest.CSVOptions{Format: ingest.CSVCooRTweet, ObjectKind: opts.ObjectKind, Platform: opts.Platform,
			// A stream deduplicates by post ID: each row of the German
			// layout needs its own (see ingest.CSVOptions.RowIDs).
			RowIDs: true}, from)
	case FormatCNT:
		return ingest.OpenCSV(opts.Path, ingest.CSVOptions{Format: ingest.CSVCNT, Platform: opts.Platform}, from)
	case FormatCSV:
		m := opts.Mapping
		return ingest.OpenCSV(opts.Path, ingest.CSVOptions{Format: ingest.CSVGeneric, Platform: opts.Platform, Mapping: &m}, from)
	case FormatTwitterV1:
		return twitter.OpenV1File(opts.Path, from)
	case FormatTwitterV2, FormatTwarc2:
		// twarc2 writes the v2 API's pages, or one flattened tweet a
		// line; the v2 reader takes both.
		return twitter.OpenV2File(opts.Path, from)
	case FormatIOArchive:
		return twitter.OpenIOArchiveCSV(opts.Path, from)
	case FormatTelegram:
		return telegram.New(telegram.Config{Path: opts.Path, Log: opts.Log}, from)
	}
	if IsLive(opts.Format) {
		return nil, fmt.Errorf("ingest: %q is a live source, not a file format (use vigie ingest %s)", opts.Format, opts.Format)
	}
	return nil, fmt.Errorf("ingest: unknown format %q (want one of %s)", opts.Format, strings.Join(Formats(), ", "))
}
