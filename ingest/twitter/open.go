package twitter

import (
	"fmt"

	"github.com/vigie-osint/vigie/ingest"
)

// The file formats Open knows, as named in ingest.format.
const (
	FormatV1 = "twitter-v1" // API v1.1 tweets, one per line (stream captures, twarc1)
	FormatV2 = "twitter-v2" // API v2 response pages or twarc2 output, one per line
	FormatIO = "twitter-io" // information-operations archive tweets CSV
)

// Formats lists Open's formats, for help texts and validation.
var Formats = []string{FormatV1, FormatV2, FormatIO}

// Open opens a Twitter file source by format name at from. The stream is
// not a file and has its own constructor (NewStream).
func Open(format, path string, from ingest.Position) (ingest.Source, error) {
	switch format {
	case FormatV1:
		return OpenV1File(path, from)
	case FormatV2:
		return OpenV2File(path, from)
	case FormatIO:
		return OpenIOArchiveCSV(path, from)
	}
	return nil, fmt.Errorf("twitter: unknown format %q (want %s, %s or %s)", format, FormatV1, FormatV2, FormatIO)
}
