package graph

// Cohesion tells a group that acts together from a chain of routine
// pairs. Coordinated accounts push the same objects at the same time: in
// a burst most members share the post or link, so each object on the
// cluster's edges involves a large share of it. Accounts that pair by
// routine do not: a news aggregator posts every article of the outlets it
// polls a few seconds after its poll, so it co-shares each article with
// the outlet and with whichever other aggregator polled in the same
// minute. Every such edge is heavy (tens to hundreds of articles over
// days) and no article is popular, so neither the popularity discount nor
// the null model (significance.go) weakens it, and Louvain joins the
// outlets and aggregators into one cluster; but each of its objects
// involves two or three of its members. On the hard scenario preset the
// 27 outlets and aggregators formed one cluster of cohesion 0.10 (0.13 on
// the organic week), while the 11 planted networks' clusters scored 0.46
// (a slow push, 5 members found) to 0.93.
//
// The filter judges the cluster as a whole, an average over its objects,
// rather than each object against a minimum number of sharers, so a
// member who skips some bursts does not hide them. It needs no state
// besides the edges Detect already holds, so Detect stays a pure function
// of the posts added. Since every object is on an edge, cohesion is at
// least 2/n: clusters of up to 2/MinCohesion members (10 at the default
// 0.2) always pass, and the filter acts on large chains only.

// cohesion is the mean, over the distinct objects on a cluster's edges, of
// the share of the cluster's members that co-shared the object: members(o)
// / n, members(o) being the members with an edge holding o. It is at
// least 2/n (every object is on an edge) and 1 when every member
// co-shared every object. Integer counts and one division, so it does
// not depend on map order.
func cohesion(edges []*edge, n int) float64 {
	if n == 0 || len(edges) == 0 {
		return 0
	}
	type agg struct {
		last    uint32 // account (index + 1) last counted
		members int
	}
	objs := map[uint64]*agg{}
	// Count each (member, object) once: visit a member's edges together.
	byMember := map[uint32][]*edge{}
	for _, ed := range edges {
		byMember[ed.a] = append(byMember[ed.a], ed)
		byMember[ed.b] = append(byMember[ed.b], ed)
	}
	for m, eds := range byMember {
		for _, ed := range eds {
			for _, o := range ed.objs {
				a := objs[o.h]
				if a == nil {
					a = &agg{}
					objs[o.h] = a
				}
				if a.last != m+1 {
					a.last = m + 1
					a.members++
				}
			}
		}
	}
	var sum int64
	for _, a := range objs {
		sum += int64(a.members)
	}
	return float64(sum) / float64(len(objs)) / float64(n)
}
