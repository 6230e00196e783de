package scenario

import (
	"hash/fnv"
	"math"
	"math/bits"
	"math/rand/v2"
)

// rng draws from a PCG source through derivations written here rather than
// through math/rand/v2's Rand: PCG is a fixed algorithm, but Rand's methods
// (IntN, NormFloat64, ...) are not promised to produce the same sequence in
// every Go release, and the bundled scenario is compared byte for byte with
// a fresh generation, so a Go upgrade must not change it.
type rng struct{ src *rand.PCG }

// newRNG returns a generator for one named stream of the scenario. Each
// part of the generator (organic accounts, each network, ...) draws from
// its own stream, so retuning one network does not reshuffle the rest of
// the scenario and the golden files change only where the change is.
func newRNG(seed uint64, stream string) *rng {
	h := fnv.New64a()
	h.Write([]byte(stream))
	return &rng{rand.NewPCG(seed, h.Sum64())}
}

// float returns a uniform float in [0, 1).
func (r *rng) float() float64 { return float64(r.src.Uint64()>>11) / (1 << 53) }

// intn returns a uniform int in [0, n); n must be positive. The
// multiply-high method has a bias below 2^-40 at the sizes used here.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.src.Uint64(), uint64(n))
	return int(hi)
}

// between returns a uniform int64 in [lo, hi].
func (r *rng) between(lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + int64(r.intn(int(hi-lo+1)))
}

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.float() < p }

// norm returns a standard normal deviate (Box-Muller, one of the pair).
func (r *rng) norm() float64 {
	u1 := 1 - r.float() // (0, 1]: keeps the log finite
	u2 := r.float()
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// lognormal returns a deviate whose median is median and whose log has
// standard deviation sigma: the shape of most activity and popularity
// measures on social media (a few accounts do most of the posting).
func (r *rng) lognormal(median, sigma float64) float64 {
	return median * math.Exp(sigma*r.norm())
}

// poisson returns a Poisson deviate: by inversion for small means, by a
// rounded normal above 30 where the difference no longer shows.
func (r *rng) poisson(mean float64) int {
	if mean <= 0 {
		return 0
	}
	if mean > 30 {
		n := int(math.Round(mean + math.Sqrt(mean)*r.norm()))
		return max(n, 0)
	}
	l := math.Exp(-mean)
	k, p := 0, r.float()
	for q := l; p > q; q *= mean / float64(k) {
		p -= q
		k++
	}
	return k
}

// pick returns a uniform element of xs, which must not be empty.
func pick[T any](r *rng, xs []T) T { return xs[r.intn(len(xs))] }

// weighted returns an index drawn with probability proportional to the
// increments of cum, a cumulative weight array whose last element is the
// total; it returns -1 when the total is not positive.
func (r *rng) weighted(cum []float64) int {
	if len(cum) == 0 || cum[len(cum)-1] <= 0 {
		return -1
	}
	x := r.float() * cum[len(cum)-1]
	lo, hi := 0, len(cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if cum[m] > x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}
