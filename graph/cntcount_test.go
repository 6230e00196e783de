package graph

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

// randomShares draws shares over few accounts, objects and messages, so
// that pairs repeat, messages repeat (insert or ignore), some shares are
// exact repeats and some objects are empty.
func randomShares(r *rand.Rand, n int) []Share {
	out := make([]Share, 0, n)
	for range n {
		s := Share{
			Object:  fmt.Sprint("o", r.IntN(12)),
			Account: fmt.Sprint(r.IntN(15)), // decimal IDs, interned as numbers
			Content: fmt.Sprint(r.IntN(n)),
			Time:    t0.Add(time.Duration(r.IntN(600)) * time.Second),
		}
		switch r.IntN(20) {
		case 0:
			s.Object = ""
		case 1:
			s.Account = fmt.Sprint("user", r.IntN(5)) // string IDs
		case 2:
			s.Content = fmt.Sprint("m", r.IntN(n))
		case 3:
			s.Account = "007" // not canonical: a string, not 7
		}
		if len(out) > 0 && r.IntN(10) == 0 {
			s = out[r.IntN(len(out))] // exact repeat
		}
		out = append(out, s)
	}
	return out
}

// TestCNTCounterMatchesReference checks the counter against the
// triple-sorting reference on random shares, for both object rules and
// several windows and minimum weights, and its merged network against
// MergeCNT with components numbered in account order.
func TestCNTCounterMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for trial := range 60 {
		shares := randomShares(r, 50+r.IntN(400))
		p := CNTParams{
			TimeWindow:          time.Duration(r.IntN(120)) * time.Second,
			MinEdgeWeight:       r.IntN(3),
			OneObjectPerMessage: trial%2 == 0,
		}
		want, err := cntReference(shares, p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := CNT(shares, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) == 0 {
			t.Fatalf("trial %d: reference found no edge; the test data is too sparse", trial)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d (%+v): counter edges differ from the reference:\n got %v\nwant %v", trial, p, got, want)
		}
		c, _ := NewCNTCounter(p)
		for _, s := range shares {
			c.Add(s.Object, s.Account, s.Content, s.Time.UnixNano())
		}
		nonEmpty := slices.DeleteFunc(slices.Clone(shares), func(s Share) bool { return s.Object == "" })
		dedup := DropDuplicateShares(nonEmpty)
		if c.Shares != len(dedup) || c.Duplicates != len(nonEmpty)-len(dedup) {
			t.Errorf("trial %d: %d shares, %d duplicates; want %d, %d", trial, c.Shares, c.Duplicates, len(dedup), len(nonEmpty)-len(dedup))
		}
		net := c.Network()
		var pairs []CNTPair
		for _, x := range net.Pairs {
			pairs = append(pairs, CNTPair{A: net.Accounts[x.A], B: net.Accounts[x.B], Weight: int(x.Weight), AB: int(x.AB), BA: int(x.BA)})
		}
		if merged := MergeCNT(want); !reflect.DeepEqual(pairs, merged) {
			t.Fatalf("trial %d: network pairs differ from MergeCNT:\n got %v\nwant %v", trial, pairs, merged)
		}
		// Components: the smallest-index account of each component takes
		// the next number, in account order.
		if !slices.IsSorted(net.Accounts) {
			t.Errorf("trial %d: accounts not sorted", trial)
		}
		for _, x := range net.Pairs {
			if net.Component[x.A] != net.Component[x.B] {
				t.Errorf("trial %d: pair %v across components", trial, x)
			}
		}
		next := int32(1)
		for _, comp := range net.Component {
			if comp == next {
				next++
			} else if comp > next {
				t.Fatalf("trial %d: components not numbered in account order: %v", trial, net.Component)
			}
		}
	}
}

func TestDecimalID(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{{"0", true}, {"123", true}, {"007", false}, {"", false}, {"12a", false}, {"-1", false},
		{"999999999999999999", true}, {"1000000000000000000", false}} {
		v, ok := decimalID(tc.in)
		if ok != tc.ok || ok && fmtUint(v) != tc.in {
			t.Errorf("decimalID(%q) = %d, %v", tc.in, v, ok)
		}
	}
}

// TestCNTInterner checks that names survive interning, with and without
// prefixes, past the 15 prefixes that fit in a key, and that the two
// maps never give one name two numbers or two names one.
func TestCNTInterner(t *testing.T) {
	var in cntInterner
	var want []string
	for i := range 20 {
		for _, s := range []string{fmt.Sprint(i), fmt.Sprint("p", i, ":", 42), fmt.Sprint("p", i, ":042"), "twitter:" + fmt.Sprint(i), fmt.Sprint("x", i)} {
			id, isNew := in.id(s)
			if !isNew || int(id) != len(want) {
				t.Fatalf("%q: id %d new %v, want %d new", s, id, isNew, len(want))
			}
			want = append(want, s)
		}
	}
	for i, s := range want {
		if id, isNew := in.id(s); isNew || int(id) != i {
			t.Errorf("%q again: id %d new %v, want %d", s, id, isNew, i)
		}
	}
	if got := in.names(); !reflect.DeepEqual(got, want) {
		t.Errorf("names %v, want %v", got, want)
	}
}

// FuzzCNTCounter checks the counter against the reference on shares
// decoded from arbitrary bytes (4 bytes a share: object, account,
// message, time), and decimalID against fmtUint.
func FuzzCNTCounter(f *testing.F) {
	f.Add([]byte("\x01\x02\x03\x04\x01\x03\x04\x05\x02\x02\x05\x06"), uint8(30), uint8(1), false)
	f.Add([]byte("aaaaabbbbbcccccaaaaa"), uint8(0), uint8(2), true)
	f.Fuzz(func(t *testing.T, data []byte, window, minW uint8, one bool) {
		var shares []Share
		for i := 0; i+4 <= len(data) && len(shares) < 500; i += 4 {
			obj := ""
			if data[i]%9 != 0 {
				obj = fmt.Sprint("o", data[i]%7)
			}
			shares = append(shares, Share{
				Object:  obj,
				Account: fmt.Sprint(data[i+1] % 11),
				Content: fmt.Sprint(data[i+2] % 50),
				Time:    t0.Add(time.Duration(data[i+3]) * time.Second),
			})
		}
		p := CNTParams{TimeWindow: time.Duration(window) * time.Second, MinEdgeWeight: int(minW % 4), OneObjectPerMessage: one}
		want, _ := cntReference(shares, p)
		got, err := CNT(shares, p)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("CNT %v (%v), reference %v", got, err, want)
		}
		s := string(data)
		if v, ok := decimalID(s); ok && fmtUint(v) != s {
			t.Fatalf("decimalID(%q) = %d", s, v)
		}
	})
}
