package scenario

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"

	"github.com/vigie-osint/vigie/post"
)

// WriteJSONL generates the scenario into w, one post per line as
// post.Marshal encodes it. It checks ctx every thousand posts.
func WriteJSONL(ctx context.Context, cfg Config, w io.Writer) (Truth, error) {
	bw := bufio.NewWriterSize(w, 1<<16)
	n := 0
	t, err := Generate(cfg, func(p *post.Post) error {
		if n++; n%1000 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		b, err := post.Marshal(p)
		if err != nil {
			return err
		}
		bw.Write(b)
		return bw.WriteByte('\n')
	})
	if err != nil {
		return Truth{}, err
	}
	return t, bw.Flush()
}

// WriteFiles generates the scenario into dir/posts.jsonl and writes its
// answer key to dir/truth.json, creating dir if needed. Each file is
// written under a temporary name and renamed, so a reader never sees half
// a scenario and a failed run leaves the previous files in place.
func WriteFiles(ctx context.Context, cfg Config, dir string) (Truth, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Truth{}, err
	}
	var t Truth
	err := writeAtomic(filepath.Join(dir, "posts.jsonl"), func(w io.Writer) (err error) {
		t, err = WriteJSONL(ctx, cfg, w)
		return err
	})
	if err != nil {
		return Truth{}, err
	}
	b, err := encodeTruth(t)
	if err != nil {
		return Truth{}, err
	}
	err = writeAtomic(filepath.Join(dir, "truth.json"), func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
	return t, err
}

// encodeTruth is truth.json's format: indented, so diffs of the bundled
// copy are readable, with a final newline.
func encodeTruth(t Truth) ([]byte, error) {
	b, err := json.MarshalIndent(t, "", "  ")
	return append(b, '\n'), err
}

func writeAtomic(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // no-op after the rename
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
