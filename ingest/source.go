package ingest

import (
	"context"

	"github.com/vigie-osint/vigie/post"
)

// Source yields posts one at a time, from a file or a live stream. Every
// format and platform implements it, so the ingest stage, the batch
// `vigie detect` and the benchmarks read them all the same way.
//
// Next returns io.EOF when a finite source ends (a live stream never does:
// it reconnects, and returns only ctx's error when ctx ends). A record the
// source cannot turn into a valid post comes back as a *RecordError naming
// the record and the field; the caller dead-letters it and calls Next
// again, so one bad record never stops a stream nor is silently dropped.
// Other errors are fatal for the source.
type Source interface {
	Next(ctx context.Context) (post.Post, error)
	// Position says where the source stands after the last record
	// returned, for resuming after a restart: byte offset and line for
	// files, a platform cursor (since_id, time_us...) for streams.
	Position() Position
	Close() error
}
