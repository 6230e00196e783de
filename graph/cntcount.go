package graph

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// CNTCounter computes the Coordination Network Toolkit's network (see
// CNT) from shares added one at a time, in compact memory: accounts,
// objects and messages are interned to int32 as they arrive (decimal IDs,
// the platforms' usual form, through a uint64 map that needs no string
// copy), and a kept share costs 20 bytes. Nothing is held per pair of
// shares: the network is counted account by account (see Pairs), so
// memory grows with the shares and the edges, not with the co-share
// pairs (150 million at 10 million rows of the benchmark stream).
//
// The toolkit's "insert or ignore" is applied on Add: a later share of a
// message ID already seen (of the same message and object when
// OneObjectPerMessage is false) is ignored. The result equals CNT's on
// the same shares in the same order.
type CNTCounter struct {
	p        CNTParams
	window   int64
	accs     cntInterner
	objs     cntInterner
	msgs     cntInterner
	kept     []int32          // message -> kept row (OneObjectPerMessage)
	keys     map[uint64]int32 // message and object -> kept row (otherwise)
	ignored  map[[4]int64]bool
	acc, obj []int32
	msg      []int32
	t        []int64
	// Shares counts the shares added that are not exact repeats of an
	// earlier one (same object, account, message and time); Duplicates
	// those that are, as DropDuplicateShares counts them.
	Shares, Duplicates int
}

// NewCNTCounter returns a counter for the toolkit computation p.
func NewCNTCounter(p CNTParams) (*CNTCounter, error) {
	if p.TimeWindow < 0 {
		return nil, fmt.Errorf("graph: CNT: negative time window %v", p.TimeWindow)
	}
	return &CNTCounter{p: p, window: int64(p.TimeWindow), keys: map[uint64]int32{}}, nil
}

// Add adds one share: account shared object in its message at t (Unix
// nanoseconds). A share with an empty object is ignored, as in CNT.
func (c *CNTCounter) Add(object, account, message string, t int64) {
	if object == "" {
		return
	}
	o, _ := c.objs.id(object)
	m, newMsg := c.msgs.id(message)
	a, _ := c.accs.id(account)
	var r int32
	seen := !newMsg
	if c.p.OneObjectPerMessage {
		if seen {
			r = c.kept[m]
		} else {
			c.kept = append(c.kept, int32(len(c.acc)))
		}
	} else {
		k := uint64(uint32(m))<<32 | uint64(uint32(o))
		r, seen = c.keys[k]
		if !seen {
			c.keys[k] = int32(len(c.acc))
		}
	}
	if seen {
		// Ignored by the toolkit; counted as an exact repeat when it
		// equals the kept share or an earlier ignored one.
		tuple := [4]int64{int64(o), int64(a), int64(m), t}
		if c.acc[r] == a && c.obj[r] == o && c.t[r] == t || c.ignored[tuple] {
			c.Duplicates++
			return
		}
		if c.ignored == nil {
			c.ignored = map[[4]int64]bool{}
		}
		c.ignored[tuple] = true
		c.Shares++
		return
	}
	c.Shares++
	c.acc = append(c.acc, a)
	c.obj = append(c.obj, o)
	c.msg = append(c.msg, m)
	c.t = append(c.t, t)
}

// CNTNetwork is the toolkit network with both directions of each pair
// merged, as MergeCNT gives it, in compact form.
type CNTNetwork struct {
	// Accounts are the accounts of at least one pair, in byte order.
	Accounts []string
	// Component is each account's connected component, numbered from 1
	// in account order.
	Component []int32
	// Pairs are sorted by A then B, indices into Accounts, A < B.
	Pairs []CNTIndexPair
}

// CNTIndexPair is a CNTPair with accounts as indices into
// CNTNetwork.Accounts.
type CNTIndexPair struct {
	A, B           int32
	Weight, AB, BA int32
}

// cntIndex is the counter's shares grouped for counting. Accounts are
// numbered by rank in byte order; the arrays that the inner loop of
// count reads are laid out in (object, time) order, so a window of an
// object is one contiguous run of memory.
type cntIndex struct {
	names []string // rank -> account
	rank  []int32  // row -> account rank
	off   []int32  // object -> start of its run in the (object, time) order; off[len] = rows
	pos   []int32  // row -> position in the (object, time) order
	sT    []int64  // position -> time
	sR    []int32  // position -> account rank
	sG    []int32  // position -> (account, message) group
	rows  []int32  // rows in (account rank, message, row) order
	group []int32  // row -> (account, message) group, numbered in that order
	nGrp  int
}

func (c *CNTCounter) index() *cntIndex {
	n := len(c.acc)
	x := &cntIndex{}
	names := c.accs.names()
	byRank := make([]int32, len(names))
	for i := range byRank {
		byRank[i] = int32(i)
	}
	slices.SortFunc(byRank, func(a, b int32) int { return strings.Compare(names[a], names[b]) })
	accRank := make([]int32, len(names))
	x.names = make([]string, len(names))
	for r, a := range byRank {
		accRank[a] = int32(r)
		x.names[r] = names[a]
	}
	x.rank = make([]int32, n)
	for i, a := range c.acc {
		x.rank[i] = accRank[a]
	}
	// Rows by object (a counting sort keeps row order), then time.
	x.off, x.pos = countingOrder(c.obj, len(c.objs.order))
	sorted := make([]int32, n)
	for row, p := range x.pos {
		sorted[p] = int32(row)
	}
	for o := range len(x.off) - 1 {
		g := sorted[x.off[o]:x.off[o+1]]
		if !slices.IsSortedFunc(g, func(a, b int32) int { return cmp.Compare(c.t[a], c.t[b]) }) {
			slices.SortStableFunc(g, func(a, b int32) int { return cmp.Compare(c.t[a], c.t[b]) })
			for i, row := range g {
				x.pos[row] = x.off[o] + int32(i)
			}
		}
	}
	// Rows by account rank (counting sort), then message.
	rankOff, rankPos := countingOrder(x.rank, len(names))
	x.rows = make([]int32, n)
	for row, p := range rankPos {
		x.rows[p] = int32(row)
	}
	for r := range len(rankOff) - 1 {
		g := x.rows[rankOff[r]:rankOff[r+1]]
		if !slices.IsSortedFunc(g, func(a, b int32) int { return cmp.Compare(c.msg[a], c.msg[b]) }) {
			slices.SortStableFunc(g, func(a, b int32) int { return cmp.Compare(c.msg[a], c.msg[b]) })
		}
	}
	x.group = make([]int32, n)
	g := int32(-1)
	for i, row := range x.rows {
		if i == 0 || x.rank[row] != x.rank[x.rows[i-1]] || c.msg[row] != c.msg[x.rows[i-1]] {
			g++
		}
		x.group[row] = g
	}
	x.nGrp = int(g + 1)
	if x.nGrp == n {
		// One row per message (always so for reposts): number the groups
		// by position instead, so that count's stamps of a window's
		// shares are read in order rather than all over memory.
		copy(x.group, x.pos)
	}
	x.sT = make([]int64, n)
	x.sR = make([]int32, n)
	x.sG = make([]int32, n)
	for row, p := range x.pos {
		x.sT[p], x.sR[p], x.sG[p] = c.t[row], x.rank[row], x.group[row]
	}
	return x
}

// countingOrder returns, for keys in [0, k), the start of each key's run
// (plus the total at the end) and each element's position in the stable
// order by key.
func countingOrder(keys []int32, k int) (off, pos []int32) {
	off = make([]int32, k+1)
	for _, v := range keys {
		off[v+1]++
	}
	for i := range k {
		off[i+1] += off[i]
	}
	next := slices.Clone(off[:k])
	pos = make([]int32, len(keys))
	for i, v := range keys {
		pos[i] = next[v]
		next[v]++
	}
	return off, pos
}

// count calls emit(u1, u2, ab, ba), with accounts as ranks in byte
// order, for each account u1 in that order and each account u2 it
// co-shared with, in that order (only those after u1 when upper is
// true), where ab is the number of distinct messages of u1 with a message
// of u2 on the same object within the window and ba the number of
// distinct messages of u2 with one of u1: the toolkit's weights of
// u1 -> u2 and u2 -> u1. Only pairs with ab >= minW (or, when either is
// true, ba >= minW) are emitted.
//
// It works account by account: for each message of u1, the shares of its
// object within the window are a contiguous run of the (object, time)
// order, counted in arrays indexed by account with stamps that count each
// message once. So no pair of shares is ever stored: memory is a few
// arrays of the shares' and accounts' size, whatever the number of pairs.
//
// The accounts are split in two halves of about equal rows, counted on
// two goroutines (each with its own arrays) and joined in order: the
// passes of two accounts are independent.
func (c *CNTCounter) count(x *cntIndex, upper, either bool, minW int32, emit func(u1, u2 int32, ab, ba int32)) {
	n := len(x.rows)
	mid := n / 2
	for mid > 0 && mid < n && x.rank[x.rows[mid]] == x.rank[x.rows[mid-1]] {
		mid++
	}
	var second []cntRaw
	done := make(chan struct{})
	go func() {
		second = c.countRange(x, mid, n, upper, either, minW)
		close(done)
	}()
	first := c.countRange(x, 0, mid, upper, either, minW)
	<-done
	for _, part := range [2][]cntRaw{first, second} {
		for _, r := range part {
			emit(r.a, r.b, r.ab, r.ba)
		}
	}
}

// cntRaw is one (u1, u2) result of count.
type cntRaw struct{ a, b, ab, ba int32 }

// countRange runs count's passes over x.rows[from:to], which must start
// and end at account boundaries.
func (c *CNTCounter) countRange(x *cntIndex, from, to int, upper, either bool, minW int32) []cntRaw {
	var out []cntRaw
	nAcc := len(x.names)
	ab := make([]int32, nAcc)
	ba := make([]int32, nAcc)
	stampAB := make([]int32, nAcc) // u2 -> last (u1, message) group counted
	for i := range stampAB {
		stampAB[i] = -1
	}
	stampBA := make([]int32, x.nGrp) // (u2, message) group -> last u1 counted
	for i := range stampBA {
		stampBA[i] = -1
	}
	var touched []int32
	sT, sR, sG := x.sT, x.sR, x.sG
	for lo := from; lo < to; {
		r1 := x.rank[x.rows[lo]]
		hi := lo
		for hi < to && x.rank[x.rows[hi]] == r1 {
			hi++
		}
		touched = touched[:0]
		for _, row := range x.rows[lo:hi] {
			group := x.group[row]
			t1 := c.t[row]
			p := x.pos[row]
			o := c.obj[row]
			gs, ge := x.off[o], x.off[o+1]
			// First share of the run at or after t1 - window.
			start := t1 - c.window
			i, j := gs, p
			for i < j {
				h := int32(uint32(i+j) >> 1)
				if sT[h] < start {
					i = h + 1
				} else {
					j = h
				}
			}
			to := t1 + c.window
			for q := i; q < ge && sT[q] <= to; q++ {
				u2 := sR[q]
				if u2 == r1 || upper && u2 < r1 {
					continue
				}
				if stampAB[u2] != group {
					if ab[u2] == 0 && ba[u2] == 0 {
						touched = append(touched, u2)
					}
					stampAB[u2] = group
					ab[u2]++
				}
				// u1 as the stamp: each message of u2 counts once per u1.
				if g2 := sG[q]; stampBA[g2] != r1 {
					stampBA[g2] = r1
					ba[u2]++
				}
			}
		}
		k := 0
		for _, u2 := range touched {
			if ab[u2] >= minW || either && ba[u2] >= minW {
				touched[k] = u2
				k++
			} else {
				ab[u2], ba[u2] = 0, 0
			}
		}
		touched = touched[:k]
		slices.Sort(touched)
		for _, u2 := range touched {
			out = append(out, cntRaw{r1, u2, ab[u2], ba[u2]})
			ab[u2], ba[u2] = 0, 0
		}
		lo = hi
	}
	return out
}

// Edges returns the toolkit's directed edges of weight >= MinEdgeWeight,
// sorted by User1, User2: CNT's result.
func (c *CNTCounter) Edges() []CNTEdge {
	minW := int32(max(c.p.MinEdgeWeight, 1))
	x := c.index()
	var out []CNTEdge
	c.count(x, false, false, minW, func(u1, u2, ab, _ int32) {
		out = append(out, CNTEdge{User1: x.names[u1], User2: x.names[u2], Weight: int(ab)})
	})
	return out
}

// Network returns the merged network: MergeCNT(Edges()), with each
// account's connected component, computed without building the directed
// edges.
func (c *CNTCounter) Network() *CNTNetwork {
	minW := int32(max(c.p.MinEdgeWeight, 1))
	x := c.index()
	type raw struct{ a, b, ab, ba int32 }
	var pairs []raw
	c.count(x, true, true, minW, func(u1, u2, ab, ba int32) {
		if ab < minW {
			ab = 0
		}
		if ba < minW {
			ba = 0
		}
		pairs = append(pairs, raw{u1, u2, ab, ba})
	})
	// Accounts of the pairs, numbered in rank (byte) order.
	idx := make([]int32, len(x.names))
	for i := range idx {
		idx[i] = -1
	}
	for _, p := range pairs {
		idx[p.a], idx[p.b] = 0, 0
	}
	net := &CNTNetwork{Pairs: make([]CNTIndexPair, len(pairs))}
	for r, v := range idx {
		if v == 0 {
			idx[r] = int32(len(net.Accounts))
			net.Accounts = append(net.Accounts, x.names[r])
		}
	}
	uf := newCompatUnionFind(len(net.Accounts))
	for i, p := range pairs {
		net.Pairs[i] = CNTIndexPair{A: idx[p.a], B: idx[p.b], Weight: max(p.ab, p.ba), AB: p.ab, BA: p.ba}
		uf.union(idx[p.a], idx[p.b])
	}
	net.Component = make([]int32, len(net.Accounts))
	num := make([]int32, len(net.Accounts)) // root -> component number
	next := int32(0)
	for i := range net.Accounts {
		r := uf.find(int32(i))
		if num[r] == 0 {
			next++
			num[r] = next
		}
		net.Component[i] = num[r]
	}
	return net
}

// cntInterner numbers strings in order of first appearance. Canonical
// decimal IDs (no sign, no leading zero, at most 18 digits), bare or
// after a short prefix ending in ':' (Vigie's "twitter:123" object keys;
// up to 15 distinct prefixes), go through a uint64 map, which neither
// hashes nor copies a string; others through a string map. Both share one
// numbering.
type cntInterner struct {
	num      u64Table
	str      map[string]int32
	prefixes []string  // prefix code - 1 -> prefix, "twitter:"
	order    []cntName // id -> name
}

type cntName struct {
	s string
	n uint64 // decimal ID | prefix code << 60, when isNum
	// isNum tells n holds the name.
	isNum bool
}

// numKey returns the uint64 key of s, if s is a decimal ID with at most
// a known or new prefix.
func (in *cntInterner) numKey(s string) (uint64, bool) {
	if v, ok := decimalID(s); ok {
		return v, true
	}
	i := strings.IndexByte(s, ':')
	if i <= 0 || i > 32 {
		return 0, false
	}
	v, ok := decimalID(s[i+1:])
	if !ok {
		return 0, false
	}
	pre := s[:i+1]
	for k, p := range in.prefixes {
		if p == pre {
			return v | uint64(k+1)<<60, true
		}
	}
	if len(in.prefixes) == 15 {
		return 0, false
	}
	in.prefixes = append(in.prefixes, strings.Clone(pre))
	return v | uint64(len(in.prefixes))<<60, true
}

// id returns s's number and whether s is new.
func (in *cntInterner) id(s string) (int32, bool) {
	if v, ok := in.numKey(s); ok {
		i, isNew := in.num.put(v, int32(len(in.order)))
		if !isNew {
			return i, false
		}
		in.order = append(in.order, cntName{n: v, isNum: true})
		return i, true
	}
	if i, ok := in.str[s]; ok {
		return i, false
	}
	if in.str == nil {
		in.str = map[string]int32{}
	}
	i := int32(len(in.order))
	s = strings.Clone(s) // s may point into a caller's buffer
	in.str[s] = i
	in.order = append(in.order, cntName{s: s})
	return i, true
}

// names returns every interned string by ID.
func (in *cntInterner) names() []string {
	out := make([]string, len(in.order))
	for i, n := range in.order {
		switch {
		case !n.isNum:
			out[i] = n.s
		case n.n>>60 == 0:
			out[i] = fmtUint(n.n)
		default:
			out[i] = in.prefixes[n.n>>60-1] + fmtUint(n.n&(1<<60-1))
		}
	}
	return out
}

// u64Table maps uint64 keys to int32 values: open addressing with
// linear probing in two flat arrays, no pointers for the garbage
// collector, about twice as fast as a Go map on the counter's tens of
// millions of look-ups. A slot holds key+1, 0 marking it empty (keys
// are below 2^64-1: decimal IDs under 10^18 and a 4-bit prefix code).
type u64Table struct {
	keys []uint64
	vals []int32
	n    int
	mask uint64
}

// put returns the value of k, inserting v for it if k is new.
func (t *u64Table) put(k uint64, v int32) (int32, bool) {
	if 2*(t.n+1) > len(t.keys) {
		t.grow()
	}
	k++
	for i := (k * 0x9E3779B97F4A7C15) >> 32 & t.mask; ; i = (i + 1) & t.mask {
		switch t.keys[i] {
		case k:
			return t.vals[i], false
		case 0:
			t.keys[i], t.vals[i] = k, v
			t.n++
			return v, true
		}
	}
}

func (t *u64Table) grow() {
	old, oldV := t.keys, t.vals
	size := max(1024, 2*len(old))
	t.keys, t.vals, t.mask = make([]uint64, size), make([]int32, size), uint64(size-1)
	for j, k := range old {
		if k == 0 {
			continue
		}
		i := (k * 0x9E3779B97F4A7C15) >> 32 & t.mask
		for t.keys[i] != 0 {
			i = (i + 1) & t.mask
		}
		t.keys[i], t.vals[i] = k, oldV[j]
	}
}

// decimalID parses a canonical decimal of 1 to 18 digits.
func decimalID(s string) (uint64, bool) {
	if len(s) == 0 || len(s) > 18 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			return 0, false
		}
		v = v*10 + uint64(d)
	}
	return v, true
}

func fmtUint(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return string(b[i:])
}
