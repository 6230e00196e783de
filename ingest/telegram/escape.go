package telegram

import (
	"io"
)

// escapeFixer repairs the one way Telegram Desktop's JSON export is not
// JSON. Its writer escapes control characters other than \n, \r and \t as
// "\x0B" (see SerializeString in tdesktop's export_output_json.cpp),
// which no JSON parser accepts: one vertical tab in one message would make
// the rest of a multi-gigabyte export unreadable. Inside strings, the
// fixer rewrites "\x" as "\u00", which with the two hex digits that follow
// is the JSON escape of the same character.
//
// The output is two bytes longer per repair, so the fixer remembers where
// it made them, to map the decoder's offsets back to the file's.
type escapeFixer struct {
	r        io.Reader
	inString bool
	escaped  bool
	pending  []byte // output not yet returned
	buf      []byte
	out      int64   // bytes returned so far
	repairs  []int64 // output offsets just after each inserted pair, in order
	shift    int64   // 2 x repairs already dropped from the list
}

func newEscapeFixer(r io.Reader) *escapeFixer {
	return &escapeFixer{r: r, buf: make([]byte, 32<<10)}
}

func (f *escapeFixer) Read(p []byte) (int, error) {
	for len(f.pending) == 0 {
		n, err := f.r.Read(f.buf)
		if n > 0 {
			f.pending = f.fix(f.buf[:n])
		}
		if err != nil && len(f.pending) == 0 {
			return 0, err
		}
		if n == 0 && err == nil {
			continue
		}
	}
	n := copy(p, f.pending)
	f.pending = f.pending[n:]
	f.out += int64(n)
	return n, nil
}

// fix rewrites a chunk, carrying the string state across chunks.
func (f *escapeFixer) fix(in []byte) []byte {
	out := in
	copied := false
	pos := f.out + int64(len(f.pending)) // output offset of in[0]
	extra := int64(0)
	for i, c := range in {
		switch {
		case f.escaped:
			f.escaped = false
			if c == 'x' {
				if !copied {
					out = append(make([]byte, 0, len(in)+16), in[:i]...)
					copied = true
				}
				out = append(out, 'u', '0', '0')
				extra += 2
				f.repairs = append(f.repairs, pos+int64(i)+extra+1)
				continue
			}
		case c == '\\' && f.inString:
			f.escaped = true
		case c == '"':
			f.inString = !f.inString
		}
		if copied {
			out = append(out, c)
		}
	}
	return out
}

// inputOffset maps an offset in the fixed output to the file's. Offsets
// asked for must not decrease.
func (f *escapeFixer) inputOffset(out int64) int64 {
	k := 0
	for k < len(f.repairs) && f.repairs[k] <= out {
		k++
	}
	if k > 0 {
		f.shift += 2 * int64(k)
		f.repairs = f.repairs[k:]
	}
	return out - f.shift
}
