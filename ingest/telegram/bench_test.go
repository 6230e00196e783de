package telegram

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigie-osint/vigie/ingest"
)

// BenchmarkExport reads a synthetic channel export of 50,000 messages in
// Telegram Desktop's layout.
func BenchmarkExport(b *testing.B) {
	path := filepath.Join(b.TempDir(), "result.json")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprint(w, "{\n \"name\": \"Bench\",\n \"type\": \"public_channel\",\n \"id\": 1006503122,\n \"messages\": [")
	const n = 50_000
	for i := 1; i <= n; i++ {
		if i > 1 {
			w.WriteString(",")
		}
		fmt.Fprintf(w, `
  {
   "id": %d,
   "type": "message",
   "date": "2022-02-24T05:01:10",
   "date_unixtime": "%d",
   "from": "Bench",
   "from_id": "channel1006503122",
   "forwarded_from": "Source %d",
   "text": [
    "Сообщение номер %d со ссылкой ",
    {
     "type": "link",
     "text": "https://example.ru/news/%d"
    },
    " и ",
    {
     "type": "hashtag",
     "text": "#тег%d"
    }
   ],
   "text_entities": [
    {
     "type": "plain",
     "text": "Сообщение номер %d со ссылкой "
    },
    {
     "type": "link",
     "text": "https://example.ru/news/%d"
    },
    {
     "type": "plain",
     "text": " и "
    },
    {
     "type": "hashtag",
     "text": "#тег%d"
    }
   ]
  }`, i, 1645671670+i, i%50, i, i, i%100, i, i, i%100)
	}
	fmt.Fprint(w, "\n ]\n}\n")
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		src, err := New(Config{Path: path}, ingest.Position{})
		if err != nil {
			b.Fatal(err)
		}
		got := 0
		for {
			if _, err := src.Next(context.Background()); err != nil {
				break
			}
			got++
		}
		src.Close()
		if got != n {
			b.Fatalf("read %d posts", got)
		}
	}
}
