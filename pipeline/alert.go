package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/bus"
	"github.com/vigie-osint/vigie/post"
)

// RuleMinRisk is the rule name of alerts raised when an active cluster's
// risk reaches the configured minimum.
const RuleMinRisk = "risk>=min"

// Alert reads cluster updates and raises an alert the first time a cluster
// reaches MinRisk. The alert ID is derived from the cluster ID and the
// rule, so an update re-delivered after a crash re-raises the same alert,
// which every consumer stores or sends once.
type Alert struct {
	Consumer  Consumer
	Producer  Producer
	Topics    Topics
	MinRisk   float64
	BatchSize int
	BatchWait time.Duration
	Log       *slog.Logger
	Stats     *Stats
	// Notifier, when set, is handed every alerting cluster update (not
	// only the first of a cluster: it applies its own per-subscription
	// de-duplication and cooldown) and must make its output durable
	// before returning, since the stage commits its offsets next.
	Notifier Notifier

	sent map[string]bool // alert IDs produced by this process
}

// Notifier queues webhook deliveries for alerts (package alert). cs[i] is
// the cluster update that raised as[i].
type Notifier interface {
	Notify(ctx context.Context, cs []post.Cluster, as []post.Alert) error
}

// Run consumes cluster updates until ctx is done.
func (s *Alert) Run(ctx context.Context) error {
	s.sent = map[string]bool{}
	b := &batcher{Consumer: s.Consumer, Producer: s.Producer, DLQ: s.Topics.DeadLetter, Stage: "alert",
		Size: s.BatchSize, Wait: s.BatchWait, Log: s.Log, Stats: s.Stats}
	return b.run(ctx, func(ctx context.Context, batch []bus.Message) ([]rejected, error) {
		var out []bus.Message
		var ids []string
		var bad []rejected
		var ncs []post.Cluster
		var nas []post.Alert
		for _, m := range batch {
			if below(m.Value, s.MinRisk) {
				continue
			}
			c, err := post.DecodeCluster(bus.Source(m), m.Value)
			if err != nil {
				bad = append(bad, rejected{m, err})
				continue
			}
			a, ok := Evaluate(c, s.MinRisk)
			if !ok {
				continue
			}
			if s.Notifier != nil {
				ncs, nas = append(ncs, c), append(nas, a)
			}
			if s.sent[a.ID] {
				continue
			}
			v, err := post.Marshal(&a)
			if err != nil {
				return nil, fmt.Errorf("alert: encode %s: %w", a.ID, err)
			}
			out = append(out, bus.Message{Topic: s.Topics.Alerts, Key: []byte(a.ID), Value: v})
			ids = append(ids, a.ID)
		}
		if err := s.Producer.Produce(ctx, out...); err != nil {
			return nil, err
		}
		if len(nas) > 0 {
			if err := s.Notifier.Notify(ctx, ncs, nas); err != nil {
				return nil, fmt.Errorf("alert: notify: %w", err)
			}
		}
		for _, id := range ids {
			s.sent[id] = true
		}
		s.Stats.Alerts.Add(int64(len(out)))
		return bad, nil
	})
}

// clusterHead is the part of a cluster record the alert rule reads first.
type clusterHead struct {
	Schema int    `json:"schema"`
	ID     string `json:"id"`
	Status string `json:"status"`
	Scores struct {
		Risk float64 `json:"risk"`
	} `json:"scores"`
}

// below tells, from the record's head alone, that a well-formed cluster
// update cannot raise an alert (not active, or risk under minRisk). Most
// updates are such, and decoding their edges and evidence only to drop
// them took a fifth of the CPU of a loaded `vigie run` (load profile,
// docs/benchmarks.md). Anything the head cannot vouch for (bad JSON, no
// ID, a newer schema) goes on to DecodeCluster, which rejects it with
// the record and field named; a record that is broken only in a field
// the rule does not read is dropped here as it would be there, and the
// index stage still dead-letters it.
func below(b []byte, minRisk float64) bool {
	var h clusterHead
	if json.Unmarshal(b, &h) != nil || h.ID == "" || h.Schema > post.SchemaVersion {
		return false
	}
	return h.Status != post.StatusActive || h.Scores.Risk < minRisk
}

// Evaluate applies the alert rule to one cluster update.
func Evaluate(c post.Cluster, minRisk float64) (post.Alert, bool) {
	if c.Status != post.StatusActive || c.Scores.Risk < minRisk {
		return post.Alert{}, false
	}
	var kinds []string
	for _, k := range []post.Kind{post.KindRepost, post.KindLink, post.KindDomain, post.KindHashtag, post.KindHashtagSeq, post.KindText, post.KindReply, post.KindMention, post.KindMedia} {
		if c.Signals[k] > 0 {
			kinds = append(kinds, fmt.Sprintf("%d %s", c.Signals[k], k))
		}
	}
	summary := fmt.Sprintf("Coordinated network of %d accounts (risk %.0f) acting together since %s: %s.",
		len(c.Members), c.Scores.Risk, c.FirstSeen.UTC().Format("2006-01-02 15:04 MST"), strings.Join(kinds, ", "))
	if c.Target != "" {
		verb := "favours"
		if c.TargetStance == "smear" {
			verb = "smears"
		}
		summary += fmt.Sprintf(" It %s %s", verb, c.Target)
		if c.BotShare > 0 {
			summary += fmt.Sprintf("; %.0f%% of its members look automated", 100*c.BotShare)
		}
		summary += "."
	}
	return post.Alert{
		Schema:    post.SchemaVersion,
		ID:        post.StableID("a-", c.ID, RuleMinRisk),
		ClusterID: c.ID,
		Rule:      RuleMinRisk,
		Time:      c.Detected,
		Risk:      c.Scores.Risk,
		Size:      len(c.Members),
		Summary:   summary,
		Reasons:   c.Scores.Reasons,
		Targets:   targets(c),
	}, true
}

// targetShare is the share of a cluster's posts favouring or smearing a
// candidate at which the alert names the candidate as a target.
const targetShare = 0.2

// targets lists the candidates the cluster favours or smears: its Target
// and every candidate with a clear favour or smear share, sorted.
func targets(c post.Cluster) []string {
	var out []string
	if c.Target != "" {
		out = append(out, c.Target)
	}
	for k, v := range c.Stance {
		if max(v.Favour, v.Smear) >= targetShare && k != c.Target {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
