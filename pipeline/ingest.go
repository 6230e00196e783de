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
	"time"

	"github.com/vigie-osint/vigie/bus"
	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/post"
)

// Ingest reads a source file and produces its posts to the posts topic.
// Its position in the file is a checkpoint saved after each batch is
// acknowledged, so a restart resumes there; a crash between the ack and
// the save re-sends at most one batch, which downstream de-duplicates by
// post key. Bad records go to the dead-letter topic and file, with the
// line and the reason, and reading goes on.
type Ingest struct {
	// Source names the source for its checkpoint: a file path, or a
	// stream's URL.
	Source string
	// Open opens the source at a saved position. Nil opens Source as
	// Vigie's JSONL.
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
	// StayAfterEOF keeps Run blocked after the source ends, until ctx is
	// done, so that `vigie run` keeps its other stages serving.
	StayAfterEOF bool
	Log          *slog.Logger
	Stats        *Stats
}

// CheckpointName is the checkpoint key of a source: its absolute path, so
// two sources never share a position.
func (s *Ingest) CheckpointName() string {
	abs, err := filepath.Abs(s.Source)
	if err != nil {
		abs = s.Source
	}
	return "ingest:" + abs
}

// Run reads the source to its end (or until ctx is done).
func (s *Ingest) Run(ctx context.Context) error {
	if s.BatchSize <= 0 {
		s.BatchSize = 500
	}
	var pos ingest.Position
	data, err := s.Checkpoints.LoadCheckpoint(ctx, s.CheckpointName())
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &pos); err != nil {
			return fmt.Errorf("ingest: checkpoint %s: %w", s.CheckpointName(), err)
		}
		s.Log.Info("ingest resuming", "source", s.Source, "line", pos.Line, "offset", pos.Offset)
	case isNotFound(err):
	default:
		return fmt.Errorf("ingest: load checkpoint: %w", err)
	}
	var src ingest.Source
	if s.Open != nil {
		src, err = s.Open(ctx, pos)
	} else {
		src, err = ingest.OpenJSONL(s.Source, pos)
	}
	if err != nil {
		return err
	}
	defer src.Close()
	if st, err := os.Stat(s.Source); err == nil && st.Mode().IsRegular() {
		s.Stats.SourceBytes.Store(st.Size())
	}

	var dlq *os.File
	if s.DeadLetterFile != "" {
		if err := os.MkdirAll(filepath.Dir(s.DeadLetterFile), 0o755); err != nil {
			return fmt.Errorf("ingest: dead-letter dir: %w", err)
		}
		dlq, err = os.OpenFile(s.DeadLetterFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("ingest: dead-letter file: %w", err)
		}
		defer dlq.Close()
	}

	var pace pacer
	batch := make([]bus.Message, 0, s.BatchSize)
	var bad []*ingest.RecordError
	good := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := s.Producer.Produce(ctx, batch...); err != nil {
			return err
		}
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
		b, _ := json.Marshal(src.Position())
		if err := s.Checkpoints.SaveCheckpoint(ctx, s.CheckpointName(), b); err != nil {
			return fmt.Errorf("ingest: save checkpoint: %w", err)
		}
		s.Stats.Ingested.Add(int64(good))
		s.Stats.DeadLetters.Add(int64(len(bad)))
		s.Stats.SourceOffset.Store(src.Position().Offset)
		batch, bad, good = batch[:0], bad[:0], 0
		return nil
	}
	for {
		if ctx.Err() != nil {
			return nil // the last batch was flushed; the position is saved
		}
		p, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			if err := flush(); err != nil {
				return err
			}
			s.Stats.IngestDone.Store(true)
			s.Log.Info("ingest reached the end of the source", "source", s.Source, "line", src.Position().Line)
			if s.StayAfterEOF {
				<-ctx.Done()
			}
			return nil
		}
		var re *ingest.RecordError
		switch {
		case errors.As(err, &re):
			s.Log.Warn("ingest rejected a record", "err", re.Error())
			bad = append(bad, re)
			batch = append(batch, deadLetterRecord(s.Topics.DeadLetter, re))
		case err != nil:
			return err
		default:
			if s.Normaliser != nil {
				if err := s.Normaliser.Apply(ctx, &p); errors.Is(err, ingest.ErrDuplicate) {
					s.Stats.Duplicates.Add(1)
					continue
				} else if err != nil {
					re := &ingest.RecordError{Source: s.Source, Line: src.Position().Line, Err: err}
					re.Raw, _ = post.Marshal(&p)
					s.Log.Warn("ingest rejected a record", "err", re.Error())
					bad = append(bad, re)
					batch = append(batch, deadLetterRecord(s.Topics.DeadLetter, re))
					break
				}
			}
			if s.Speed > 0 {
				if err := pace.wait(ctx, p.Time, s.Speed); err != nil {
					return nil // unflushed records are re-read on restart
				}
			}
			v, err := post.Marshal(&p)
			if err != nil {
				return fmt.Errorf("ingest: encode %s: %w", p.Key(), err)
			}
			batch = append(batch, bus.Message{Topic: s.Topics.Posts, Key: []byte(p.AuthorKey()), Value: v})
			good++
		}
		if len(batch) >= s.BatchSize {
			if err := flush(); err != nil {
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
