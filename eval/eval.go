// Package eval measures how well Vigie's output recovers the networks
// planted in a synthetic scenario (package scenario): account-level
// precision and recall, how close the clusters are to the planted
// partition (adjusted Rand index, NMI), whether the cluster of each
// network is given the right target and stance, how long after its first
// post each network is detected, and how many alerts point at no planted
// network. `vigie eval` runs it; docs/evaluation.md explains each figure
// and its conventions.
//
// It works on stored records only (clusters of every status and alerts),
// so it rates a finished run without needing the stream it came from.
package eval

import (
	"cmp"
	"slices"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/scenario"
)

// Report is the result of Evaluate. Ratios are NaN-free: a ratio with a
// zero denominator is 0 and its counts say why.
type Report struct {
	Posts    int       `json:"posts"`
	Accounts int       `json:"accounts"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Days     float64   `json:"days"` // span of the scenario

	ActiveClusters int `json:"active_clusters"`
	Clusters       int `json:"clusters"` // every status
	Alerts         int `json:"alerts"`

	// Account level: an account is predicted coordinated when an active
	// cluster holds it (scenario.Truth.Score).
	Precision      float64 `json:"precision"`
	Recall         float64 `json:"recall"`
	F1             float64 `json:"f1"`
	TruePositives  int     `json:"true_positives"`
	FalsePositives int     `json:"false_positives"`
	FalseNegatives int     `json:"false_negatives"`

	// Cluster level, over PartitionItems accounts: the union of planted
	// members and accounts in active clusters (see Partitions).
	AdjustedRand   float64 `json:"adjusted_rand"`
	NMI            float64 `json:"nmi"`
	PartitionItems int     `json:"partition_items"`

	// Stance: networks whose best-matching active cluster names their
	// target and stance, over the networks that have such a cluster.
	StanceCorrect  int     `json:"stance_correct"`
	StanceJudged   int     `json:"stance_judged"`
	StanceAccuracy float64 `json:"stance_accuracy"`

	// Detection: networks detected, and the median and worst time to
	// detection over them.
	Detected        int     `json:"detected"`
	MedianTTDSecond float64 `json:"median_ttd_seconds"`
	MaxTTDSecond    float64 `json:"max_ttd_seconds"`
	// Reaction: detection minus the time the network's own co-actions
	// first sufficed (AddEvidence), median and worst over Reacted
	// networks. Zero when AddEvidence was not called.
	Reacted               int     `json:"reacted"`
	MedianReactionSeconds float64 `json:"median_reaction_seconds"`
	MaxReactionSeconds    float64 `json:"max_reaction_seconds"`

	// False alerts: alerts whose cluster is not mostly planted accounts.
	FalseAlerts       int     `json:"false_alerts"`
	FalseAlertsPerDay float64 `json:"false_alerts_per_day"`

	Networks []Network `json:"networks"`
}

// Network is the evaluation of one planted network.
type Network struct {
	Name   string  `json:"name"`
	Tactic string  `json:"tactic"`
	Size   int     `json:"size"`
	Found  int     `json:"found"` // members in some active cluster
	Recall float64 `json:"recall"`

	// Cluster is the active cluster with the highest Jaccard similarity
	// to the members ("" when none holds a member); Jaccard that
	// similarity.
	Cluster string  `json:"cluster,omitempty"`
	Jaccard float64 `json:"jaccard"`

	Target          string `json:"target"`
	Stance          string `json:"stance"`
	PredictedTarget string `json:"predicted_target,omitempty"`
	PredictedStance string `json:"predicted_stance,omitempty"`
	StanceOK        bool   `json:"stance_ok"`

	// DetectedAt is the stream time of the first alert on, or the
	// earliest stored detection of, a cluster of any status holding at
	// least half the members; DetectedBy says which ("alert" or
	// "cluster"). TTDSeconds is DetectedAt minus the network's first
	// planted post. All zero when never detected.
	DetectedAt time.Time `json:"detected_at,omitzero"`
	DetectedBy string    `json:"detected_by,omitempty"`
	TTDSeconds float64   `json:"ttd_seconds"`
	// EvidenceAt is when half the members first had a co-action edge at
	// the minimum weight (Evidence); ReactionSeconds is DetectedAt minus
	// it, at least 0. Zero when unknown.
	EvidenceAt      time.Time `json:"evidence_at,omitzero"`
	ReactionSeconds float64   `json:"reaction_seconds"`
}

// Evaluate rates clusters (every status; only active ones count as
// predictions) and alerts against the truth of the scenario they were
// computed from.
func Evaluate(truth scenario.Truth, clusters []post.Cluster, alerts []post.Alert) Report {
	r := Report{
		Posts: truth.Posts, Accounts: truth.Accounts, Start: truth.Start, End: truth.End,
		Days:     truth.End.Sub(truth.Start).Hours() / 24,
		Clusters: len(clusters), Alerts: len(alerts),
	}
	active := activeInOrder(clusters)
	r.ActiveClusters = len(active)

	lists := make([][]string, len(active))
	for i, c := range active {
		lists[i] = c.Members
	}
	sc := truth.Score(lists)
	r.Precision, r.Recall, r.F1 = sc.Precision, sc.Recall, sc.F1
	r.TruePositives, r.FalsePositives, r.FalseNegatives = sc.TruePositives, sc.FalsePositives, sc.FalseNegatives

	want, got := Partitions(truth, active)
	r.PartitionItems = len(want)
	r.AdjustedRand = AdjustedRand(want, got)
	r.NMI = NMI(want, got)

	byID := make(map[string]*post.Cluster, len(clusters))
	for i := range clusters {
		byID[clusters[i].ID] = &clusters[i]
	}
	var ttds []float64
	for i, n := range truth.Networks {
		ne := Network{Name: n.Name, Tactic: n.Tactic, Size: len(n.Members), Target: n.Target, Stance: n.Stance}
		if i < len(sc.Networks) {
			ne.Found, ne.Recall = sc.Networks[i].Found, sc.Networks[i].Recall
		}
		in := set(n.Members)
		bestOverlap := 0
		for _, c := range active {
			o := overlap(c.Members, in)
			if o == 0 {
				continue
			}
			j := float64(o) / float64(len(in)+len(c.Members)-o)
			if j > ne.Jaccard {
				ne.Cluster, ne.Jaccard, bestOverlap = c.ID, j, o
				ne.PredictedTarget, ne.PredictedStance = c.Target, c.TargetStance
			}
		}
		if bestOverlap > 0 {
			r.StanceJudged++
			ne.StanceOK = ne.PredictedTarget == n.Target && ne.PredictedStance == n.Stance
			if ne.StanceOK {
				r.StanceCorrect++
			}
		}
		ne.DetectedAt, ne.DetectedBy = detection(in, clusters, alerts, byID)
		if ne.DetectedBy != "" {
			ne.TTDSeconds = ne.DetectedAt.Sub(n.Start).Seconds()
			ttds = append(ttds, ne.TTDSeconds)
		}
		r.Networks = append(r.Networks, ne)
	}
	r.StanceAccuracy = ratio(r.StanceCorrect, r.StanceJudged)
	r.Detected = len(ttds)
	if len(ttds) > 0 {
		slices.Sort(ttds)
		r.MedianTTDSecond = median(ttds)
		r.MaxTTDSecond = ttds[len(ttds)-1]
	}

	planted := map[string]bool{}
	for _, n := range truth.Networks {
		for _, a := range n.Members {
			planted[a] = true
		}
		for _, a := range n.Leaders {
			planted[a] = true
		}
	}
	for _, a := range alerts {
		c := byID[a.ClusterID]
		if c == nil || 2*overlap(c.Members, planted) < len(c.Members) {
			r.FalseAlerts++
		}
	}
	if r.Days > 0 {
		r.FalseAlertsPerDay = float64(r.FalseAlerts) / r.Days
	}
	return r
}

// Partitions gives the planted and the predicted labeling of the same
// accounts, for AdjustedRand and NMI. The accounts are the union of the
// planted networks' members and the members of active clusters, in key
// order; leaders that are not members are left out, as in
// scenario.Truth.Score, since a co-action detector cannot see them. An
// account's planted label is its network (the first listing it); its
// predicted label is the first active cluster holding it in store order
// (risk, then size descending, then ID), should clusters overlap. An
// organic account, or an account no cluster holds, is a singleton: it is
// "with nobody", which is what an uncoordinated account is. Labeling all
// of them one "organic" group instead would reward a detector for the
// thousands of accounts it rightly leaves alone, and swamp the index.
func Partitions(truth scenario.Truth, active []post.Cluster) (want, got []string) {
	trueLabel := map[string]string{}
	leader := map[string]bool{}
	for _, n := range truth.Networks {
		for _, m := range n.Members {
			if _, ok := trueLabel[m]; !ok {
				trueLabel[m] = "n:" + n.Name
			}
		}
		for _, l := range n.Leaders {
			leader[l] = true
		}
	}
	predLabel := map[string]string{}
	for _, c := range active {
		for _, m := range c.Members {
			if leader[m] && trueLabel[m] == "" {
				continue
			}
			if _, ok := predLabel[m]; !ok {
				predLabel[m] = "c:" + c.ID
			}
		}
	}
	items := make([]string, 0, len(trueLabel)+len(predLabel))
	for a := range trueLabel {
		items = append(items, a)
	}
	for a := range predLabel {
		if _, ok := trueLabel[a]; !ok {
			items = append(items, a)
		}
	}
	slices.Sort(items)
	for _, a := range items {
		want = append(want, cmp.Or(trueLabel[a], "none:"+a))
		got = append(got, cmp.Or(predLabel[a], "none:"+a))
	}
	return want, got
}

// detection finds when a network was first detected: the earliest alert
// on a cluster holding at least half its members, or the earliest
// stored Detected of such a cluster, whichever comes first. A stored
// cluster is its latest version, so its Detected is when it was last
// updated, not first found: it only bounds detection from above, which
// is why an alert's time (the update that first crossed the alert rule)
// is preferred.
func detection(members map[string]bool, clusters []post.Cluster, alerts []post.Alert, byID map[string]*post.Cluster) (time.Time, string) {
	holds := func(c *post.Cluster) bool {
		return c != nil && len(members) > 0 && 2*overlap(c.Members, members) >= len(members)
	}
	var at time.Time
	by := ""
	for _, a := range alerts {
		// An alert fires once per cluster, often while the cluster is
		// still a fraction of the network (its Size then); it counts as
		// the network's detection when that cluster, as stored, holds
		// half the network: the analyst was told then, and the cluster
		// grew under the same ID.
		if holds(byID[a.ClusterID]) && (by == "" || a.Time.Before(at)) {
			at, by = a.Time, "alert"
		}
	}
	for i := range clusters {
		if holds(&clusters[i]) && (by == "" || clusters[i].Detected.Before(at)) {
			at, by = clusters[i].Detected, "cluster"
		}
	}
	return at, by
}

// activeInOrder returns the active clusters in the order the store lists
// them: risk, then size descending, then ID.
func activeInOrder(clusters []post.Cluster) []post.Cluster {
	var out []post.Cluster
	for _, c := range clusters {
		if c.Status == post.StatusActive {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b post.Cluster) int {
		return cmp.Or(cmp.Compare(b.Scores.Risk, a.Scores.Risk), cmp.Compare(len(b.Members), len(a.Members)), cmp.Compare(a.ID, b.ID))
	})
	return out
}

func set(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// overlap counts the distinct members of xs that are in s.
func overlap(xs []string, s map[string]bool) int {
	seen := map[string]bool{}
	for _, x := range xs {
		if s[x] && !seen[x] {
			seen[x] = true
		}
	}
	return len(seen)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
