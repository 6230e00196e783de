package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// An action is one bulk item: its metadata line and, except for a delete,
// its document.
type action struct {
	op      string // "index", "create" or "delete"
	index   string
	id      string
	version int64 // external_gte version when versioned
	// versioned writes use external_gte: a 409 then means "a newer version
	// is stored" and is success. create: a 409 means "exists", also
	// success.
	versioned bool
	source    []byte
	// kind and key name the record in errors: "post" and "twitter:1".
	kind, key string
}

func (a *action) what() string { return a.kind + " " + a.key }

func (a *action) meta() []byte {
	m := map[string]any{"_index": a.index, "_id": a.id}
	if a.versioned {
		m["version"] = a.version
		m["version_type"] = "external_gte"
	}
	b, _ := json.Marshal(map[string]any{a.op: m}) // strings and ints only: cannot fail
	return b
}

// conflictIsSuccess tells whether a 409 on this action means the write is
// already reflected (an older record lost to a newer one, or a create of
// a document that exists).
func (a *action) conflictIsSuccess() bool { return a.versioned || a.op == "create" }

// ItemFailure is a bulk item Elasticsearch refused for good (mapping
// error, document too large...). Retrying the batch will not help: the
// caller should set the record aside (dead-letter it).
type ItemFailure struct {
	Record string // "post twitter:1", "cluster c-…"
	// Kind ("post", "account", "cluster", "alert", or "post" for the
	// deletion of a moved post's old copy) and Key (the record's stable
	// key) let a caller find the input record to dead-letter.
	Kind   string
	Key    string
	Index  string
	ID     string
	Status int
	Type   string
	Reason string
}

// BulkError lists the items of a write that failed for good, naming each
// record. Items not listed were written.
type BulkError struct {
	What     string
	Failures []ItemFailure
}

// Refused reports whether the record of this kind ("post", "account",
// "cluster", "alert") and stable key was refused for good, and why. The
// index stage uses it to dead-letter exactly those input records and
// commit the rest of the batch, which is durable: one document Elasticsearch
// will never accept must not block a topic partition forever.
func (e *BulkError) Refused(kind, key string) (reason string, ok bool) {
	for _, f := range e.Failures {
		if f.Kind == kind && f.Key == key {
			return fmt.Sprintf("%s refused by Elasticsearch (index %s, _id %s): HTTP %d %s: %s", f.Record, f.Index, f.ID, f.Status, f.Type, f.Reason), true
		}
	}
	return "", false
}

func (e *BulkError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "elastic: %s: %d item(s) refused", e.What, len(e.Failures))
	for i, f := range e.Failures {
		if i == 5 {
			fmt.Fprintf(&b, "; and %d more", len(e.Failures)-i)
			break
		}
		fmt.Fprintf(&b, "; %s (index %s, _id %s): HTTP %d %s: %s", f.Record, f.Index, f.ID, f.Status, f.Type, f.Reason)
	}
	return b.String()
}

type bulkItem struct {
	Index  string `json:"_index"`
	ID     string `json:"_id"`
	Status int    `json:"status"`
	Error  *struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
}

type bulkResponse struct {
	Errors bool                  `json:"errors"`
	Items  []map[string]bulkItem `json:"items"`
}

// bulk writes acts and returns when every one is acknowledged. Requests
// hold at most bulkActions items and about bulkBytes bytes and are sent one
// after the other, so memory is bounded by one request and a slow cluster
// slows the caller down (back-pressure) instead of queueing. Items refused
// with 429 or 5xx are sent again, alone, after a backoff that doubles up to
// maxBackoff; after maxAttempts they are failures. Other refusals are
// failures at once. Actions must not share an index and _id: their order
// within a batch is not kept across retries.
func (s *Store) bulk(ctx context.Context, what string, acts []action) error {
	var failures []ItemFailure
	for start := 0; start < len(acts); {
		var body bytes.Buffer
		end := start
		for end < len(acts) && end-start < s.opts.bulkActions {
			a := &acts[end]
			size := len(a.source) + 200
			if end > start && body.Len()+size > s.opts.bulkBytes {
				break
			}
			body.Write(a.meta())
			body.WriteByte('\n')
			if a.op != "delete" {
				body.Write(a.source)
				body.WriteByte('\n')
			}
			end++
		}
		f, err := s.bulkChunk(ctx, what, acts[start:end], body.Bytes())
		if err != nil {
			return err
		}
		failures = append(failures, f...)
		start = end
	}
	if len(failures) > 0 {
		return &BulkError{What: what, Failures: failures}
	}
	return nil
}

// bulkChunk sends one request and retries its retryable items.
func (s *Store) bulkChunk(ctx context.Context, what string, acts []action, body []byte) ([]ItemFailure, error) {
	var failures []ItemFailure
	backoff := s.opts.backoff
	for attempt := 1; ; attempt++ {
		q := url.Values{}
		if s.opts.refresh != "" {
			q.Set("refresh", s.opts.refresh)
		}
		var res bulkResponse
		if err := s.do(ctx, http.MethodPost, "/_bulk", q, body, &res); err != nil {
			return nil, fmt.Errorf("elastic: %s: bulk: %w", what, err)
		}
		if len(res.Items) != len(acts) {
			return nil, fmt.Errorf("elastic: %s: bulk: %d items answered for %d sent", what, len(res.Items), len(acts))
		}
		var retry []action
		for i, m := range res.Items {
			a := &acts[i]
			var it bulkItem
			for _, v := range m { // one key: the op
				it = v
			}
			switch {
			case it.Status >= 200 && it.Status <= 299:
			case it.Status == http.StatusConflict && a.conflictIsSuccess():
			case it.Status == http.StatusNotFound && a.op == "delete":
			case it.Status == http.StatusTooManyRequests || it.Status >= 500:
				if attempt < s.opts.maxAttempts {
					retry = append(retry, *a)
					continue
				}
				fallthrough
			default:
				f := ItemFailure{Record: a.what(), Kind: a.kind, Key: a.key, Index: a.index, ID: a.id, Status: it.Status}
				if it.Error != nil {
					f.Type, f.Reason = it.Error.Type, it.Error.Reason
				}
				failures = append(failures, f)
			}
		}
		if len(retry) == 0 {
			return failures, nil
		}
		s.log.Warn("bulk items refused, retrying", "what", what, "items", len(retry), "attempt", attempt, "backoff", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("elastic: %s: bulk retry: %w", what, context.Cause(ctx))
		case <-t.C:
		}
		backoff = min(backoff*2, s.opts.maxBackoff)
		acts = retry
		var b bytes.Buffer
		for i := range acts {
			b.Write(acts[i].meta())
			b.WriteByte('\n')
			if acts[i].op != "delete" {
				b.Write(acts[i].source)
				b.WriteByte('\n')
			}
		}
		body = b.Bytes()
	}
}
