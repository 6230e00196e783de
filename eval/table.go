package eval

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable writes r as plain-text tables: the summary figures, then one
// row per planted network. The layout is Markdown-compatible (pipes), so
// it can be pasted into docs/benchmarks.md as is.
func WriteTable(w io.Writer, r Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.Debug)
	p := func(format string, a ...any) { fmt.Fprintf(tw, format+"\n", a...) }
	p("| metric\t value\t")
	p("|---\t---\t")
	p("| scenario\t %d posts, %d accounts, %d networks, %.1f days\t", r.Posts, r.Accounts, len(r.Networks), r.Days)
	p("| clusters\t %d active (%d stored), %d alerts\t", r.ActiveClusters, r.Clusters, r.Alerts)
	p("| account precision\t %.3f (%d TP, %d FP)\t", r.Precision, r.TruePositives, r.FalsePositives)
	p("| account recall\t %.3f (%d FN)\t", r.Recall, r.FalseNegatives)
	p("| account F1\t %.3f\t", r.F1)
	p("| adjusted Rand index\t %.3f (%d accounts)\t", r.AdjustedRand, r.PartitionItems)
	p("| NMI\t %.3f\t", r.NMI)
	p("| stance accuracy\t %.3f (%d/%d networks)\t", r.StanceAccuracy, r.StanceCorrect, r.StanceJudged)
	p("| networks detected\t %d/%d\t", r.Detected, len(r.Networks))
	p("| time to detection\t median %s, max %s (from each network's first post)\t", dur(r.MedianTTDSecond), dur(r.MaxTTDSecond))
	if r.Reacted > 0 {
		p("| reaction time\t median %s, max %s (from enough evidence, %d networks)\t", dur(r.MedianReactionSeconds), dur(r.MaxReactionSeconds), r.Reacted)
	}
	p("| false alerts\t %d (%.2f per simulated day)\t", r.FalseAlerts, r.FalseAlertsPerDay)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.Debug)
	p = func(format string, a ...any) { fmt.Fprintf(tw, format+"\n", a...) }
	p("| network\t tactic\t size\t recall\t Jaccard\t truth\t predicted\t TTD\t reaction\t")
	p("|---\t---\t---\t---\t---\t---\t---\t---\t---\t")
	for _, n := range r.Networks {
		pred := strings.TrimSpace(n.PredictedStance + " " + n.PredictedTarget)
		switch {
		case n.Cluster == "":
			pred = "(no cluster)"
		case pred == "":
			pred = "(none)"
		}
		if n.StanceOK {
			pred += " ok"
		}
		ttd := "not detected"
		if n.DetectedBy != "" {
			ttd = dur(n.TTDSeconds) + " (" + n.DetectedBy + ")"
		}
		react := "-"
		switch {
		case !n.EvidenceAt.IsZero() && n.DetectedBy != "":
			react = dur(n.ReactionSeconds)
		case n.EvidenceAt.IsZero() && r.Reacted > 0:
			react = "never enough evidence"
		}
		p("| %s\t %s\t %d\t %.3f\t %.3f\t %s %s\t %s\t %s\t %s\t", n.Name, n.Tactic, n.Size, n.Recall, n.Jaccard, n.Stance, n.Target, pred, ttd, react)
	}
	return tw.Flush()
}

func dur(seconds float64) string {
	return (time.Duration(seconds * float64(time.Second))).Round(time.Second).String()
}
