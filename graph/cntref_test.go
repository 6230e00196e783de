package graph

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// cntReference is the first CNT implementation, kept as the reference
// the counter is checked against: it materialises every (user1, user2,
// message) triple, sorts and counts them, which is plainly the toolkit's
// count(distinct e_1.message_id) but holds every co-share pair.
func cntReference(shares []Share, p CNTParams) ([]CNTEdge, error) {
	if p.TimeWindow < 0 {
		return nil, fmt.Errorf("graph: CNT: negative time window %v", p.TimeWindow)
	}
	minW := max(p.MinEdgeWeight, 1)
	var accs, objs, msgs compatInterner
	type row struct {
		acc, obj, msg int32
		t             int64
	}
	var rows []row
	seen := map[uint64]bool{}
	for _, s := range shares {
		if s.Object == "" {
			continue
		}
		r := row{acc: accs.id(s.Account), obj: objs.id(s.Object), msg: msgs.id(s.Content), t: s.Time.UnixNano()}
		k := uint64(uint32(r.msg)) << 32
		if !p.OneObjectPerMessage {
			k |= uint64(uint32(r.obj))
		}
		if seen[k] {
			continue // insert or ignore
		}
		seen[k] = true
		rows = append(rows, r)
	}
	// Group by object, each in time order.
	slices.SortFunc(rows, func(a, b row) int {
		if c := cmp.Compare(a.obj, b.obj); c != 0 {
			return c
		}
		return cmp.Compare(a.t, b.t)
	})
	window := int64(p.TimeWindow)
	// Triples (user1, user2, message of user1), one per message and
	// partner account: stamp[u2] remembers the last message that emitted
	// u2, so a message matching many shares of one account emits once.
	type triple struct{ u1, u2, msg int32 }
	var out []triple
	stamp := make([]int64, len(accs.names))
	for i := range stamp {
		stamp[i] = -1
	}
	for lo := 0; lo < len(rows); {
		hi := lo
		for hi < len(rows) && rows[hi].obj == rows[lo].obj {
			hi++
		}
		g := rows[lo:hi]
		first := 0
		for k, r1 := range g {
			for g[first].t < r1.t-window {
				first++
			}
			id := int64(lo + k)
			for _, r2 := range g[first:] {
				if r2.t > r1.t+window {
					break
				}
				if r2.acc == r1.acc || stamp[r2.acc] == id {
					continue
				}
				stamp[r2.acc] = id
				out = append(out, triple{r1.acc, r2.acc, r1.msg})
			}
		}
		lo = hi
	}
	slices.SortFunc(out, func(a, b triple) int {
		if c := cmp.Compare(a.u1, b.u1); c != 0 {
			return c
		}
		if c := cmp.Compare(a.u2, b.u2); c != 0 {
			return c
		}
		return cmp.Compare(a.msg, b.msg)
	})
	out = slices.Compact(out)
	var edges []CNTEdge
	for lo := 0; lo < len(out); {
		hi := lo
		for hi < len(out) && out[hi].u1 == out[lo].u1 && out[hi].u2 == out[lo].u2 {
			hi++
		}
		if hi-lo >= minW {
			edges = append(edges, CNTEdge{User1: accs.names[out[lo].u1], User2: accs.names[out[lo].u2], Weight: hi - lo})
		}
		lo = hi
	}
	slices.SortFunc(edges, func(a, b CNTEdge) int {
		if c := strings.Compare(a.User1, b.User1); c != 0 {
			return c
		}
		return strings.Compare(a.User2, b.User2)
	})
	return edges, nil
}
