package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/vigie-osint/vigie/alert"
	"github.com/vigie-osint/vigie/brief"
	"github.com/vigie-osint/vigie/store"
)

// StageBrief is the daily briefing schedule, part of `vigie run`.
const StageBrief = "brief"

// briefScheduler builds the schedule actor of `vigie run`.
func briefScheduler(cfg Options, st store.Store, ap *alertParts, idle func() bool, written func(string, bool)) (*brief.Scheduler, error) {
	c := cfg.Config
	ps, err := pseudonymizer(c, "briefings")
	if err != nil {
		return nil, err
	}
	aps, err := pseudonymizer(c, "alerts")
	if err != nil {
		return nil, err
	}
	s := &brief.Scheduler{Store: st, Dir: c.Brief.Dir, BaseURL: c.Brief.BaseURL, Grace: c.Brief.Grace.D(), Every: c.Brief.CheckEvery.D(),
		Idle: idle, Written: written, Pseudonymizer: ps, AnnouncePseudonymizer: aps}
	if cfg.Log != nil {
		s.Log = cfg.Log.With("stage", StageBrief)
	}
	if ap != nil {
		s.Announce = func(ctx context.Context, date, title, summary string, final bool) error {
			return ap.Notifier.NotifyBriefing(ctx, alert.BriefingInfo{Date: date, Title: title, Summary: summary, Final: final})
		}
	}
	return s, nil
}

func briefCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("brief", "Write the daily influence briefing of one UTC day from the store: Markdown and\nself-contained HTML with charts (activity, stance per candidate, the network),\nunder --out (default brief.dir). The briefing is also stored, so the web UI\nserves it at /briefings/DATE. Without --date, the day of the newest stored post.", stderr)
	var cf commonFlags
	cf.register(fs)
	date := fs.String("date", "", "UTC day, YYYY-MM-DD")
	out := fs.String("out", "", "output directory (default brief.dir, <data_dir>/briefings)")
	noStore := fs.Bool("no-store", false, "write the files only, do not store the briefing")
	announce := fs.Bool("announce", false, "queue the briefing's announcement to subscribers with briefings: true")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	log := NewLogger(cfg.Log, stderr)
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	newest := time.Time{}
	if ps, _, err := st.SearchPosts(ctx, store.PostQuery{Limit: 1}); err != nil {
		return err
	} else if len(ps) > 0 {
		newest = ps[0].Time.UTC()
	}
	if *date == "" {
		if newest.IsZero() {
			return errors.New("brief: the store holds no post; give --date or run the pipeline first")
		}
		*date = newest.Format(time.DateOnly)
	}
	day, err := store.ParseBriefingDate(*date)
	if err != nil {
		fmt.Fprintln(stderr, "vigie brief: --date:", err)
		return errUsage
	}
	final := !newest.Before(day.Add(24*time.Hour + cfg.Brief.Grace.D()))
	ps, err := pseudonymizer(cfg, "briefings")
	if err != nil {
		return err
	}
	start := time.Now()
	rep, err := brief.Build(ctx, st, brief.Options{Date: *date, BaseURL: cfg.Brief.BaseURL, Final: final, Pseudonymizer: ps})
	if err != nil {
		return err
	}
	dir := *out
	if dir == "" {
		dir = cfg.Brief.Dir
	}
	files, err := rep.WriteFiles(dir)
	if err != nil {
		return err
	}
	if !*noStore {
		b, err := rep.Briefing()
		if err != nil {
			return err
		}
		if err := st.PutBriefing(ctx, b); err != nil {
			return err
		}
	}
	if *announce {
		ap, err := openAlerts(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer ap.Close()
		aps, err := pseudonymizer(cfg, "alerts")
		if err != nil {
			return err
		}
		summary := rep.Summary
		if aps != nil && !rep.Pseudonymised {
			summary = rep.SummaryFor(aps)
		}
		if err := ap.Notifier.NotifyBriefing(ctx, alert.BriefingInfo{Date: rep.Date, Title: rep.Title, Summary: summary, Final: final}); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "briefing %s (%d posts, %d clusters, %d charts) in %s:\n  %s\n  %s\n", rep.Date, rep.Posts, len(rep.Active),
		len(rep.Charts), time.Since(start).Round(time.Millisecond), files.HTML, files.Markdown)
	fmt.Fprintln(stdout, rep.Summary)
	return nil
}
