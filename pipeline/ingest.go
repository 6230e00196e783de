package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/bus"
	"github.com/vigie-osint/vigie/graph"
	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/ingest/sources"
	"github.com/vigie-osint/vigie/post"
)

// Ingest reads a source and produces its posts to the posts topic. Its
// position in the source is a checkpoint saved after each batch is
// acknowledged, so a restart resumes there; a crash between the ack and
// the save re-sends at most one batch, which downstream de-duplicates by
// post key. Bad records go to the dead-letter topic and file, with the
// line and the reason, and reading goes on.
//
// The source is read on a goroutine of its own, so that a partial batch
// can be sent when FlushTimeout passes even while the source's Next is
// blocked waiting for a quiet live stream; each record carries the
// source's position after it, so the checkpoint saved with a batch is
// exactly the end of that batch.
type Ingest struct {
	// Router, when set (graph.scale_out), derives the routes of each post:
	// its actions are also written to Topics.Actions keyed by route.
	Router *graph.Engine
	// Source names the source for its checkpoint: a file path, or a
	// stream's URL.
	Source string
	// Format is Source's format for the default opener (see
	// sources.Formats); empty means Vigie's JSONL. Ignored when Open is
	// set.
	Format string
	// Open opens the source at a saved position. Nil opens Source in
	// Format through the sources registry.
	Open func(ctx context.Context, from ingest.Position) (ingest.Source, error)
	// Normaliser canonicalises URLs, detects languages and drops
	// duplicate posts; nil applies ingest.Normalise only.
	Normaliser     *ingest.Normaliser
	Topics         Topics
	Producer       Producer
	Checkpoints    Checkpoints
	DeadLetterFile string  // also append rejected lines here ("" = topic only)
	BatchSize      int     // posts per produce call; default 500
	Speed          float64 // replay speed factor; 0 = as fast as possible
	// FlushTimeout sends a partial batch once its oldest record has
	// waited that long, so a quiet live stream still delivers; default
	// 1 s. A full batch, or the end of the source, sends at once.
	FlushTimeout time.Duration
	// StayAfterEOF keeps Run blocked after the source ends, until ctx is
	// done, so that `vigie run` keeps its other stages serving.
	StayAfterEOF bool
	// RejectLogFirst is how many rejected records are logged one WARN
	// line each (default 10); after them, RejectLogEvery (default 10 s)
	// bounds the rate to one summary line with the count, and the end of
	// the run logs the total. A file with a million bad rows then
	// dead-letters them all without burying the log; every one stays in
	// the dead-letter topic and file.
	RejectLogFirst int
	RejectLogEvery time.Duration
	Log            *slog.Logger
	Stats          *Stats
}

// rejectLog logs rejected records: the first ones in full, then a
// count per interval, then the total (see Ingest.RejectLogFirst).
type rejectLog struct {
	log   *slog.Logger
	first int64
	every time.Duration
	now   func() time.Time

	n          int64     // rejected so far
	unlogged   int64     // since the last line
	lastLine   time.Time // when the last summary line was written
	lastReason string    // the latest unlogged record's error
}

func newRejectLog(log *slog.Logger, first int, every time.Duration) *rejectLog {
	if first <= 0 {
		first = 10
	}
	if every <= 0 {
		every = 10 * time.Second
	}
	return &rejectLog{log: log, first: int64(first), every: every, now: time.Now}
}

// add logs one rejected record, or counts it for the next summary.
func (r *rejectLog) add(err error) {
	r.n++
	if r.n <= r.first {
		msg := "ingest rejected a record"
		if r.n == r.first {
			msg = "ingest rejected a record; further rejections are summarised"
		}
		r.log.Warn(msg, "err", err.Error(), "rejected", r.n)
		r.lastLine = r.now()
		return
	}
	r.unlogged++
	r.lastReason = err.Error()
	if now := r.now(); now.Sub(r.lastLine) >= r.every {
		r.log.Warn("ingest rejected more records", "since_last_line", r.unlogged, "rejected", r.n, "latest", r.lastReason)
		r.unlogged, r.lastLine = 0, now
	}
}

// close logs the total when some rejections were only counted.
func (r *rejectLog) close() {
	if r.n > r.first {
		r.log.Warn("ingest rejected records in all (each is in the dead-letter topic)", "rejected", r.n, "logged_in_full", r.first, "since_last_line", r.unlogged)
	}
}

// writerStats is what bus.Producer offers beyond Produce: kafka-go's
// counters since the last call.
type writerStats interface{ Stats() bus.WriterStats }

// CheckpointName is the checkpoint key of a source: its absolute path, so
// two sources never share a position. A live source's name (a URL, or the
// Twitter stream's predicates) is kept as it is.
func (s *Ingest) CheckpointName() string {
	if strings.Contains(s.Source, "://") || strings.HasPrefix(s.Source, "twitter-stream:") {
		return "ingest:" + s.Source
	}
	abs, err := filepath.Abs(s.Source)
	if err != nil {
		abs = s.Source
	}
	return "ingest:" + abs
}

// readItem is one result of the source's Next, decoded, normalised and
// encoded on the reader goroutine, with the source's position after it.
type readItem struct {
	p   post.Post   // the post as read, until prepared
	msg bus.Message // the post's record, when err is nil
	// actions are the post's records on the actions topic (Router set).
	actions []bus.Message
	t       time.Time // the post's time, for pacing
	err     error     // a *ingest.RecordError, io.EOF or a fatal error
	pos     ingest.Position
	at      time.Time // when it was read, for the delivery lag
}

// prepare normalises and encodes a post read from the source. It reports
// false for a duplicate, which is counted and skipped.
func (s *Ingest) prepare(ctx context.Context, p *post.Post, it *readItem) bool {
	if s.Normaliser != nil {
		if err := s.Normaliser.Apply(ctx, p); errors.Is(err, ingest.ErrDuplicate) {
			s.Stats.Duplicates.Add(1)
			return false
		} else if err != nil {
			re := &ingest.RecordError{Source: s.Source, Line: it.pos.Line, Err: err}
			re.Raw, _ = post.Marshal(p)
			it.err = re
			return true
		}
	} else {
		ingest.Normalise(p)
	}
	v, err := post.Marshal(p)
	if err != nil {
		it.err = fmt.Errorf("ingest: encode %s: %w", p.Key(), err)
		return true
	}
	it.msg = bus.Message{Topic: s.Topics.Posts, Key: []byte(p.AuthorKey()), Value: v}
	if s.Router != nil {
		// Scaled-out graph: one record per route, in the same produce
		// call as the post, in source order — routed later from the posts
		// topic, partitions drifting apart in stream time would make the
		// pairing engines drop records as late.
		for _, r := range s.Router.Routes(p) {
			it.actions = append(it.actions, bus.Message{Topic: s.Topics.Actions, Key: []byte(r), Value: v})
		}
	}
	it.t = p.Time
	return true
}

// Run reads the source to its end (or until ctx is done).
func (s *Ingest) Run(ctx context.Context) error {
	if s.BatchSize <= 0 {
		s.BatchSize = 500
	}
	if s.FlushTimeout <= 0 {
		s.FlushTimeout = time.Second
	}
	if s.Stats == nil {
		s.Stats = &Stats{}
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	var pos ingest.Position
	data, err := s.Checkpoints.LoadCheckpoint(ctx, s.CheckpointName())
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &pos); err != nil {
			return fmt.Errorf("ingest: checkpoint %s: %w", s.CheckpointName(), err)
		}
		s.Log.Info("ingest resuming", "source", s.Source, "line", pos.Line, "offset", pos.Offset, "cursor", pos.Cursor)
	case isNotFound(err):
	default:
		return fmt.Errorf("ingest: load checkpoint: %w", err)
	}
	var src ingest.Source
	if s.Open != nil {
		src, err = s.Open(ctx, pos)
	} else {
		format := s.Format
		if format == "" {
			format = sources.FormatJSONL
		}
		src, err = sources.OpenFile(ctx, sources.FileOptions{Format: format, Path: s.Source, Log: s.Log}, pos)
	}
	if err != nil {
		return err
	}
	if st, err := os.Stat(s.Source); err == nil && st.Mode().IsRegular() {
		s.Stats.SourceBytes.Store(st.Size())
	}

	rejects := newRejectLog(s.Log, s.RejectLogFirst, s.RejectLogEvery)
	defer rejects.close()

	var dlq *os.File
	if s.DeadLetterFile != "" {
		if err := os.MkdirAll(filepath.Dir(s.DeadLetterFile), 0o755); err != nil {
			src.Close()
			return fmt.Errorf("ingest: dead-letter dir: %w", err)
		}
		dlq, err = os.OpenFile(s.DeadLetterFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			src.Close()
			return fmt.Errorf("ingest: dead-letter file: %w", err)
		}
		defer dlq.Close()
	}

	// Two goroutines feed the main loop, so that decoding, normalising
	// and encoding overlap with each other and with the wait for acks on
	// a 2-core machine: the reader owns src and decodes (src is closed
	// only after it returns); the preparer owns the normaliser and
	// encodes. Each reads up to a batch ahead.
	rctx, stop := context.WithCancel(ctx)
	raw := make(chan readItem, s.BatchSize)
	items := make(chan readItem, s.BatchSize)
	readerDone, prepDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(readerDone)
		defer close(raw)
		for {
			p, err := src.Next(rctx)
			it := readItem{p: p, err: err, pos: src.Position(), at: time.Now()}
			var re *ingest.RecordError
			if err == nil || errors.As(err, &re) {
				s.Stats.Read.Add(1)
			}
			select {
			case raw <- it:
			case <-rctx.Done():
				return
			}
			if err != nil && re == nil {
				return // io.EOF or a fatal error ends the source
			}
		}
	}()
	go func() {
		defer close(prepDone)
		for it := range raw {
			if it.err == nil && !s.prepare(rctx, &it.p, &it) {
				continue
			}
			it.p = post.Post{}
			select {
			case items <- it:
			case <-rctx.Done():
				return
			}
		}
	}()
	defer func() {
		stop()
		<-readerDone
		<-prepDone
		src.Close()
	}()

	ws, _ := s.Producer.(writerStats)
	if ws != nil {
		ws.Stats() // start the counters from this run
	}
	var pace pacer
	batch := make([]bus.Message, 0, s.BatchSize)
	var bad []*ingest.RecordError
	good := 0
	last, saved := pos, pos // the position after the last record taken, and the one saved
	var oldest time.Time
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var timerC <-chan time.Time
	flush := func(fctx context.Context) error {
		timerC = nil
		if len(batch) == 0 {
			return nil
		}
		var size int64
		for i := range batch {
			size += int64(len(batch[i].Key) + len(batch[i].Value))
		}
		t0 := time.Now()
		if err := s.Producer.Produce(fctx, batch...); err != nil {
			s.Stats.ProduceErrors.Add(1)
			return err
		}
		now := time.Now()
		if dlq != nil {
			for _, re := range bad {
				if err := writeDeadLetterLine(dlq, re); err != nil {
					return err
				}
			}
			if len(bad) > 0 {
				if err := dlq.Sync(); err != nil {
					return fmt.Errorf("ingest: dead-letter file: %w", err)
				}
			}
		}
		b, _ := json.Marshal(last)
		// The batch is acknowledged: a checkpoint that cannot be saved
		// (the store away or full) is retried, not fatal, since a restart
		// would only read and send the batch again.
		if err := retryDurable(fctx, s.Log, s.Stats, "ingest", "save checkpoint "+s.CheckpointName(), func(ctx context.Context) error {
			return s.Checkpoints.SaveCheckpoint(ctx, s.CheckpointName(), b)
		}); err != nil {
			return fmt.Errorf("ingest: save checkpoint: %w", err)
		}
		saved = last
		st := s.Stats
		st.Ingested.Add(int64(good))
		st.DeadLetters.Add(int64(len(bad)))
		st.SourceOffset.Store(last.Offset)
		st.ProduceBatches.Add(1)
		st.ProducedRecords.Add(int64(len(batch)))
		st.ProducedBytes.Add(size)
		st.LastBatchSize.Store(int64(len(batch)))
		storeMax(&st.MaxBatchSize, int64(len(batch)))
		st.ProduceNS.Add(int64(now.Sub(t0)))
		st.LastProduceNS.Store(int64(now.Sub(t0)))
		st.DeliveryLagNS.Store(int64(now.Sub(oldest)))
		storeMax(&st.MaxDeliveryLagNS, int64(now.Sub(oldest)))
		if ws != nil {
			w := ws.Stats()
			st.ProduceRetries.Add(w.Retries)
		}
		batch, bad, good = batch[:0], bad[:0], 0
		return nil
	}
	add := func(m bus.Message, at time.Time) {
		if len(batch) == 0 {
			oldest = at
			timer.Reset(s.FlushTimeout)
			timerC = timer.C
		}
		batch = append(batch, m)
	}
	addItem := func(it readItem) {
		add(it.msg, it.at)
		batch = append(batch, it.actions...)
	}
	// finish flushes what is pending on shutdown: the run's context is
	// cancelled then, yet acknowledged records must get their checkpoint.
	// A failure here is logged, not returned: the checkpoint was not
	// saved, so those records are read again on restart.
	finish := func() error {
		if len(batch) == 0 {
			return nil
		}
		dctx, cancel := durableCtx()
		defer cancel()
		if err := flush(dctx); err != nil {
			s.Log.Warn("ingest could not send its last batch on shutdown; it will be re-read on restart", "err", err)
		}
		return nil
	}
	for {
		var it readItem
		select {
		case <-ctx.Done():
			// Take what was already read and prepared, then send it.
			for {
				select {
				case it := <-items:
					if it.err == nil {
						last = it.pos
						addItem(it)
						good++
						continue
					}
				default:
				}
				break
			}
			return finish()
		case <-timerC:
			if len(batch) > 0 {
				s.Stats.TimeoutFlushes.Add(1)
			}
			if err := flush(ctx); err != nil {
				return err
			}
			continue
		case it = <-items:
		}
		err := it.err
		if errors.Is(err, io.EOF) {
			// The end's position covers trailing duplicates too, so a
			// restart does not read (and, its dedupe memory empty, send)
			// them again.
			last = it.pos
			if len(batch) > 0 {
				if err := flush(ctx); err != nil {
					return err
				}
			} else if last != saved {
				b, _ := json.Marshal(last)
				if err := retryDurable(ctx, s.Log, s.Stats, "ingest", "save checkpoint "+s.CheckpointName(), func(ctx context.Context) error {
					return s.Checkpoints.SaveCheckpoint(ctx, s.CheckpointName(), b)
				}); err != nil {
					return fmt.Errorf("ingest: save checkpoint: %w", err)
				}
				s.Stats.SourceOffset.Store(last.Offset)
			}
			s.Stats.IngestDone.Store(true)
			s.Log.Info("ingest reached the end of the source", "source", s.Source, "line", it.pos.Line)
			if s.StayAfterEOF {
				<-ctx.Done()
			}
			return nil
		}
		if err != nil && ctx.Err() != nil {
			return finish() // the source stopped because the run did
		}
		last = it.pos
		var re *ingest.RecordError
		switch {
		case errors.As(err, &re):
			rejects.add(re)
			bad = append(bad, re)
			add(deadLetterRecord(s.Topics.DeadLetter, re), it.at)
		case err != nil:
			_ = finish()
			return err
		default:
			if s.Speed > 0 {
				if err := pace.wait(ctx, it.t, s.Speed); err != nil {
					return finish()
				}
			}
			addItem(it)
			good++
		}
		if len(batch) >= s.BatchSize {
			if err := flush(ctx); err != nil {
				return err
			}
		}
	}
}

func writeDeadLetterLine(f *os.File, re *ingest.RecordError) error {
	rec := struct {
		Source string `json:"source"`
		Line   int64  `json:"line"`
		Error  string `json:"error"`
		Raw    string `json:"raw"`
	}{re.Source, re.Line, re.Err.Error(), string(re.Raw)}
	b, _ := json.Marshal(rec)
	if _, err := f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("ingest: dead-letter file: %w", err)
	}
	return nil
}

// pacer replays event time at a multiple of real time.
type pacer struct {
	startEvent time.Time
	startWall  time.Time
}

func (p *pacer) wait(ctx context.Context, event time.Time, speed float64) error {
	if p.startEvent.IsZero() {
		p.startEvent, p.startWall = event, time.Now()
		return nil
	}
	due := p.startWall.Add(time.Duration(float64(event.Sub(p.startEvent)) / speed))
	d := time.Until(due)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// deadLetterRecord is the dead-letter record of a rejected input record:
// its raw bytes, the reason and where it came from.
func deadLetterRecord(topic string, re *ingest.RecordError) bus.Message {
	where := fmt.Sprintf("%s:%d", re.Source, re.Line)
	return bus.Message{
		Topic: topic,
		Key:   []byte(where),
		Value: re.Raw,
		Headers: []bus.Header{
			{Key: bus.HeaderError, Value: []byte(re.Error())},
			{Key: bus.HeaderStage, Value: []byte("ingest")},
			{Key: bus.HeaderSource, Value: []byte(where)},
		},
	}
}
