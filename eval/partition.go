package eval

import "math"

// contingency counts, for two labelings of the same items, how many
// items carry each pair of labels, and the size of each label on either
// side. Labels are arbitrary strings so callers need not number them.
type contingency struct {
	n      int
	cells  map[[2]string]int
	rows   map[string]int // sizes of the labels of a
	cols   map[string]int // sizes of the labels of b
	sameAs bool           // a and b name the same item count
}

func newContingency(a, b []string) contingency {
	c := contingency{n: len(a), cells: map[[2]string]int{}, rows: map[string]int{}, cols: map[string]int{}, sameAs: len(a) == len(b)}
	if !c.sameAs {
		return c
	}
	for i := range a {
		c.cells[[2]string{a[i], b[i]}]++
		c.rows[a[i]]++
		c.cols[b[i]]++
	}
	return c
}

func comb2(n int) float64 { return float64(n) * float64(n-1) / 2 }

// AdjustedRand is the adjusted Rand index of two labelings of the same
// items (Hubert and Arabie 1985): the share of item pairs on which the
// two agree (together in both, or apart in both), corrected for chance so
// that random labelings score about 0 and identical ones 1. It follows
// scikit-learn's adjusted_rand_score, including its special case: when
// the chance-corrected denominator is 0 (both labelings put every item
// in one group, or both make every item a singleton) the labelings are
// identical and the index is 1. It returns NaN when the lengths differ.
func AdjustedRand(a, b []string) float64 {
	c := newContingency(a, b)
	if !c.sameAs {
		return math.NaN()
	}
	if c.n < 2 {
		return 1 // no pair to disagree on
	}
	var index, sumA, sumB float64
	for _, v := range c.cells {
		index += comb2(v)
	}
	for _, v := range c.rows {
		sumA += comb2(v)
	}
	for _, v := range c.cols {
		sumB += comb2(v)
	}
	total := comb2(c.n)
	expected := sumA * sumB / total
	maxIndex := (sumA + sumB) / 2
	if maxIndex == expected {
		return 1
	}
	return (index - expected) / (maxIndex - expected)
}

// NMI is the normalized mutual information of two labelings of the same
// items, I(a;b) / ((H(a)+H(b))/2): scikit-learn's
// normalized_mutual_info_score with its default arithmetic
// normalization. 1 means each labeling determines the other. When either
// labeling has a single group (so has no information) it follows
// scikit-learn: 1 if both do, else 0. It returns NaN when the lengths
// differ.
func NMI(a, b []string) float64 {
	c := newContingency(a, b)
	if !c.sameAs {
		return math.NaN()
	}
	if len(c.rows) == len(c.cols) && (len(c.rows) <= 1 || len(c.rows) == c.n) {
		// Both one group, or both all singletons: identical partitions.
		return 1
	}
	if len(c.rows) <= 1 || len(c.cols) <= 1 {
		return 0
	}
	n := float64(c.n)
	entropy := func(sizes map[string]int) float64 {
		var h float64
		for _, v := range sizes {
			p := float64(v) / n
			h -= p * math.Log(p)
		}
		return h
	}
	var mi float64
	for k, v := range c.cells {
		nij := float64(v)
		mi += nij / n * math.Log(n*nij/(float64(c.rows[k[0]])*float64(c.cols[k[1]])))
	}
	ha, hb := entropy(c.rows), entropy(c.cols)
	if den := (ha + hb) / 2; den > 0 {
		return math.Max(0, mi/den)
	}
	return 1
}
