package app

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"

	"github.com/vigie-osint/vigie/config"
	"github.com/vigie-osint/vigie/pipeline"
	"github.com/vigie-osint/vigie/privacy"
	"github.com/vigie-osint/vigie/store"
)

// pseudonymizer gives the Pseudonymizer of one output ("exports",
// "briefings", "alerts") when privacy.pseudonymise lists it, and nil (no
// rewriting) otherwise. The key comes from privacy.key or is read from
// privacy.key_file; neither is ever logged or put in an error.
func pseudonymizer(cfg config.Config, target string) (*privacy.Pseudonymizer, error) {
	if !cfg.Privacy.Pseudonymises(target) {
		return nil, nil
	}
	key := []byte(cfg.Privacy.Key)
	if f := cfg.Privacy.KeyFile; f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("privacy.key_file: %w", err)
		}
		key = bytes.TrimRight(b, "\r\n")
	}
	p, err := privacy.New(key)
	if err != nil {
		return nil, fmt.Errorf("privacy.key (for %s): %w", target, err)
	}
	return p, nil
}

// retention gives the post retention job of the configuration, or nil
// when privacy.post_retention is 0 (keep forever).
func retention(cfg config.Config, st store.Retention, log *slog.Logger, stats *pipeline.Stats) (*pipeline.Retention, error) {
	d, err := cfg.Privacy.Retention()
	if err != nil {
		return nil, fmt.Errorf("privacy.post_retention: %w", err)
	}
	if d <= 0 {
		return nil, nil
	}
	return &pipeline.Retention{Store: st, MaxAge: d, Every: cfg.Privacy.RetentionEvery.D(), Log: log, Stats: stats}, nil
}
