package elastic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store"
)

// postMeta is what the store adds to a post document under "vigie".
type postMeta struct {
	Key       string    `json:"key"`
	AuthorKey string    `json:"author_key"`
	TimeNS    int64     `json:"time_ns"`
	Tags      []string  `json:"tags,omitempty"`
	Terms     postTerms `json:"terms"`
}

type postTerms struct {
	Text     string `json:"text"`
	Hashtags string `json:"hashtags"`
}

// postDoc is a post document: the post record with the store's fields.
type postDoc struct {
	post.Post
	Vigie postMeta `json:"vigie"`
}

type accountDoc struct {
	Key      string        `json:"key"`
	Platform post.Platform `json:"platform"`
	Author   string        `json:"author"`
	Observed *time.Time    `json:"observed,omitempty"`
	Account  *post.Account `json:"account,omitempty"`
}

type clusterDoc struct {
	post.Cluster
	Size    int                  `json:"size"`
	Summary store.ClusterSummary `json:"summary"`
	Vigie   struct {
		DetectedNS int64 `json:"detected_ns"`
		LastSeenNS int64 `json:"last_seen_ns"`
	} `json:"vigie"`
}

type alertDoc struct {
	post.Alert
	Vigie struct {
		TimeNS int64 `json:"time_ns"`
	} `json:"vigie"`
}

type checkpointDoc struct {
	Name    string    `json:"name"`
	Data    []byte    `json:"data"` // base64, a binary field
	Updated time.Time `json:"updated"`
}

type briefingDoc struct {
	store.Briefing
	Day string `json:"day"`
}

// PutPosts implements store.Writer.
func (s *Store) PutPosts(ctx context.Context, posts []post.Post) error {
	if len(posts) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("elastic: put posts: %w", err)
	}
	// Validate everything before writing anything; the last of several
	// posts with one key wins, so only it is sent (bulk items of one
	// batch are not ordered).
	last := map[string]int{}
	ps := make([]post.Post, len(posts))
	for i := range posts {
		p := store.UTCPost(posts[i])
		if err := p.Validate(); err != nil {
			return fmt.Errorf("elastic: put posts: post %d: %w", i, err)
		}
		ps[i] = p
		last[p.Key()] = i
	}
	var acts []action
	var ids []string
	written := map[string]bool{}
	type snap struct {
		p        *post.Post
		observed time.Time
	}
	accounts := map[string]*snap{}
	var authorOrder []string
	for i := range ps {
		p := &ps[i]
		if last[p.Key()] != i {
			continue
		}
		tags := store.NormalizeTags(p.Hashtags)
		doc := postDoc{Post: *p, Vigie: postMeta{
			Key: p.Key(), AuthorKey: p.AuthorKey(), TimeNS: nanos(p.Time), Tags: tags,
			Terms: postTerms{Text: terms(p.Text), Hashtags: terms(strings.Join(tags, " "))},
		}}
		src, err := json.Marshal(&doc)
		if err != nil {
			return fmt.Errorf("elastic: put posts: post %s: %w", p.Key(), err)
		}
		ix := s.postIndex(p.Time)
		written[ix] = true
		id := docID(p.Key())
		ids = append(ids, id)
		acts = append(acts, action{op: "index", index: ix, id: id, source: src, kind: "post", key: p.Key()})
	}
	// Every post's author gets an account document; the one snapshot kept
	// per author is the latest observed (post time when unobserved), the
	// later post winning a tie, as in the embedded store.
	for i := range ps {
		p := &ps[i]
		k := p.AuthorKey()
		cur, seen := accounts[k]
		if !seen {
			authorOrder = append(authorOrder, k)
			cur = &snap{}
			accounts[k] = cur
		}
		if p.Account == nil {
			if cur.p == nil {
				cur.p = p // author only
			}
			continue
		}
		at := p.Account.ObservedAt
		if at.IsZero() {
			at = p.Time
		}
		if cur.p == nil || cur.p.Account == nil || !at.Before(cur.observed) {
			cur.p, cur.observed = p, at
		}
	}
	for _, k := range authorOrder {
		sn := accounts[k]
		p := sn.p
		doc := accountDoc{Key: k, Platform: p.Platform, Author: p.Author}
		a := action{op: "create", index: s.index(kindAccounts), id: docID(k), kind: "account", key: k}
		if p.Account != nil {
			obs := sn.observed
			doc.Observed, doc.Account = &obs, p.Account
			a.op, a.versioned, a.version = "index", true, version(obs)
		}
		src, err := json.Marshal(&doc)
		if err != nil {
			return fmt.Errorf("elastic: put posts: account %s: %w", k, err)
		}
		a.source = src
		acts = append(acts, a)
	}

	// A re-put post whose time moved to another day must leave its old
	// daily index.
	where, err := s.locate(ctx, ids, false)
	if err != nil {
		return fmt.Errorf("elastic: put posts: %w", err)
	}
	for _, a := range acts[:len(ids)] {
		for _, h := range where[a.id] {
			if h.index != a.index {
				acts = append(acts, action{op: "delete", index: h.index, id: a.id, kind: a.kind, key: a.key})
			}
		}
	}
	for ix := range written {
		s.markRecent(ix)
	}
	return s.bulk(ctx, "put posts", acts)
}

// PutClusters implements store.Writer.
func (s *Store) PutClusters(ctx context.Context, cs []post.Cluster) error {
	if len(cs) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("elastic: put clusters: %w", err)
	}
	// Within a batch, the version that would win in order is the one
	// sent: the latest Detected, the later of equal ones.
	best := map[string]int{}
	var order []string
	for i := range cs {
		if cs[i].ID == "" {
			return fmt.Errorf("elastic: put clusters: cluster %d: %w", i, &post.FieldError{Field: "id", Reason: "missing"})
		}
		j, ok := best[cs[i].ID]
		if !ok {
			order = append(order, cs[i].ID)
		}
		if !ok || !cs[i].Detected.Before(cs[j].Detected) {
			best[cs[i].ID] = i
		}
	}
	acts := make([]action, 0, len(order))
	for _, id := range order {
		c := store.UTCCluster(cs[best[id]])
		doc := clusterDoc{Cluster: c, Size: len(c.Members), Summary: store.Summarize(&c)}
		doc.Vigie.DetectedNS, doc.Vigie.LastSeenNS = nanos(c.Detected), nanos(c.LastSeen)
		src, err := json.Marshal(&doc)
		if err != nil {
			return fmt.Errorf("elastic: put clusters: cluster %s: %w", id, err)
		}
		acts = append(acts, action{op: "index", index: s.index(kindClusters), id: docID(id), versioned: true,
			version: version(c.Detected), source: src, kind: "cluster", key: id})
	}
	return s.bulk(ctx, "put clusters", acts)
}

// PutAlerts implements store.Writer.
func (s *Store) PutAlerts(ctx context.Context, as []post.Alert) error {
	if len(as) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("elastic: put alerts: %w", err)
	}
	best := map[string]int{}
	var order []string
	for i := range as {
		if as[i].ID == "" {
			return fmt.Errorf("elastic: put alerts: alert %d: %w", i, &post.FieldError{Field: "id", Reason: "missing"})
		}
		j, ok := best[as[i].ID]
		if !ok {
			order = append(order, as[i].ID)
		}
		if !ok || !as[i].Time.Before(as[j].Time) {
			best[as[i].ID] = i
		}
	}
	acts := make([]action, 0, len(order))
	for _, id := range order {
		a := as[best[id]]
		a.Time = a.Time.UTC()
		doc := alertDoc{Alert: a}
		doc.Vigie.TimeNS = nanos(a.Time)
		src, err := json.Marshal(&doc)
		if err != nil {
			return fmt.Errorf("elastic: put alerts: alert %s: %w", id, err)
		}
		acts = append(acts, action{op: "index", index: s.index(kindAlerts), id: docID(id), versioned: true,
			version: version(a.Time), source: src, kind: "alert", key: id})
	}
	return s.bulk(ctx, "put alerts", acts)
}

// SaveCheckpoint implements store.Checkpoints. The index API answers once
// the document is in the translog, fsynced: the write is durable.
func (s *Store) SaveCheckpoint(ctx context.Context, name string, data []byte) error {
	if name == "" {
		return errors.New("elastic: save checkpoint: empty name")
	}
	if data == nil {
		data = []byte{}
	}
	src, err := json.Marshal(checkpointDoc{Name: name, Data: data, Updated: time.Now().UTC()})
	if err != nil {
		return fmt.Errorf("elastic: save checkpoint %s: %w", name, err)
	}
	if err := s.putDoc(ctx, s.index(kindCheckpoints), name, src); err != nil {
		return fmt.Errorf("elastic: save checkpoint %s: %w", name, err)
	}
	return nil
}

// PutBriefing implements store.Briefings.
func (s *Store) PutBriefing(ctx context.Context, b store.Briefing) error {
	if err := b.Validate(); err != nil {
		return fmt.Errorf("elastic: put briefing: %w", err)
	}
	b.Generated = b.Generated.UTC()
	src, err := json.Marshal(briefingDoc{Briefing: b, Day: b.Date})
	if err != nil {
		return fmt.Errorf("elastic: put briefing %s: %w", b.Date, err)
	}
	if err := s.putDoc(ctx, s.index(kindBriefings), b.Date, src); err != nil {
		return fmt.Errorf("elastic: put briefing %s: %w", b.Date, err)
	}
	return nil
}

// putDoc indexes one document by key with the store's refresh policy.
func (s *Store) putDoc(ctx context.Context, index, key string, src []byte) error {
	q := url.Values{}
	if s.opts.refresh != "" {
		q.Set("refresh", s.opts.refresh)
	}
	return s.do(ctx, http.MethodPut, "/"+url.PathEscape(index)+"/_doc/"+url.PathEscape(docID(key)), q, src, nil)
}
