// Command scen2cnt writes a scenario's posts (vigie gen's posts.jsonl, or
// any Vigie JSONL posts) as the Coordination Network Toolkit's CSV, so
// the toolkit runs on exactly the stream Vigie is rated on:
//
//	scen2cnt -in DIR/posts.jsonl -out cnt.csv
//
// Columns: message_id, user_id, username, repost_id, reply_id, message,
// timestamp (Unix seconds), urls (space-separated expanded links). The
// toolkit ignores the links and text of reposts for co_link, as Vigie
// does; a quote is written as an ordinary message with its own links.
package main

import (
	"bufio"
	"encoding/csv"
	"flag"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"

	"github.com/vigie-osint/vigie/post"
)

func main() {
	in := flag.String("in", "", "Vigie JSONL posts")
	out := flag.String("out", "cnt.csv", "the toolkit's CSV")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		log.Fatal(err)
	}
}

func run(in, out string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	o, err := os.Create(out)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(o, 1<<20)
	w := csv.NewWriter(bw)
	w.Write([]string{"message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp", "urls"})
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 16<<20)
	rec := make([]string, 8)
	for line := 1; sc.Scan(); line++ {
		p, err := post.DecodePost(fmt.Sprintf("%s:%d", in, line), sc.Bytes())
		if err != nil {
			o.Close()
			return err
		}
		rec[0], rec[1], rec[2] = p.ID, p.Author, p.Author
		rec[3], rec[4] = p.RepostOf, p.ReplyTo
		rec[5] = p.Text
		rec[6] = strconv.FormatInt(p.Time.Unix(), 10)
		rec[7] = strings.Join(p.URLs, " ")
		if err := w.Write(rec); err != nil {
			o.Close()
			return err
		}
	}
	if err := sc.Err(); err != nil {
		o.Close()
		return fmt.Errorf("%s: %w", in, err)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		o.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		o.Close()
		return err
	}
	return o.Close()
}
