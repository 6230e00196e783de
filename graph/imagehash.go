package graph

import (
	"math/bits"
)

// Near-identical images.
//
// A post's media hashes are expected to be 64-bit perceptual hashes
// written as exactly 16 hexadecimal digits, either case, with no prefix:
// what pHash, dHash, aHash and wHash give for the usual 8x8 size
// (Python's imagehash prints str(phash(img)) in this form, e.g.
// "c3a1b0f0e8c4d2b1"). Re-encoding, resizing or a watermark moves a
// perceptual hash by a few bits, so two such hashes match when their
// Hamming distance is at most Config.MediaMaxDistance (default 6). Any
// other media hash (a SHA-256 of the file, a platform's media ID) is
// matched exactly, as a key.
//
// Lookup is multi-index hashing (Norouzi, Punjani and Fleet, 2012): the
// 64 bits are cut into d+1 blocks, and two hashes within distance d agree
// exactly on at least one block (d differing bits cannot touch all d+1
// blocks). So a hash is indexed under its d+1 (block number, block value)
// buckets and only images sharing one are compared; at d = 6 the blocks
// are 9 or 10 bits, and a lookup compares about 7/512 of the images in
// the window instead of all of them.

// MaxMediaDistance is the largest Config.MediaMaxDistance. Beyond it the
// blocks are 3 bits or fewer and lookup degenerates into a scan of an
// eighth of all images; and two random 64-bit values are within 16 bits
// of each other once in 26,000 pairs.
const MaxMediaDistance = 16

// mediaBucketFactor is how many times KeyCap a media bucket holds; see
// the near-duplicate index's doc. With the default KeyCap the index stays
// exact up to about 1.6 million images per Window+Lateness at d = 6.
const mediaBucketFactor = 64

// parsePHash parses a perceptual hash written as exactly 16 hexadecimal
// digits.
func parsePHash(s string) (uint64, bool) {
	if len(s) != 16 {
		return 0, false
	}
	var h uint64
	for i := 0; i < 16; i++ {
		c := s[i]
		var v byte
		switch {
		case '0' <= c && c <= '9':
			v = c - '0'
		case 'a' <= c && c <= 'f':
			v = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		h = h<<4 | uint64(v)
	}
	return h, true
}

// formatPHash writes h as 16 lower-case hexadecimal digits: the key of a
// perceptual hash, whatever case it came in.
func formatPHash(h uint64) string {
	const digits = "0123456789abcdef"
	var b [16]byte
	for i := 15; i >= 0; i-- {
		b[i] = digits[h&15]
		h >>= 4
	}
	return string(b[:])
}

// mihKeys appends the multi-index bucket keys of h for distance d: block
// i of d+1 covers bits [64i/(d+1), 64(i+1)/(d+1)), and its key mixes the
// block number with the block value. For a given block the key is a
// bijection of the value, so hashes collide in a bucket only when they
// share the block (keys of different blocks may collide, which only adds
// a candidate that fails the distance check).
func mihKeys(dst []uint64, h uint64, d int) []uint64 {
	m := d + 1
	for i := range m {
		lo, hi := 64*i/m, 64*(i+1)/m
		v := h >> lo
		if w := hi - lo; w < 64 {
			v &= 1<<w - 1
		}
		dst = append(dst, mix64(v^mix64(uint64(i)+0x6d6968))) // "mih"
	}
	return dst
}

// addMedia indexes a perceptual-hash media action (see addNear): its
// family is named by the hash of the image that founded it.
func (e *Engine) addMedia(ph uint64, acc uint32, t int64, pk string) {
	ne := &nearEntry{entry: entry{t: t, acc: acc, post: pk}, ph: ph}
	key := formatPHash(ph)
	own := nearObj{h: objectHash(kindMedia, key), key: key}
	e.scratchB = mihKeys(e.scratchB[:0], ph, e.mediaDist)
	e.addNear(&e.media, e.scratchB, ne, own, func(c *nearEntry) (int, bool) {
		d := bits.OnesCount64(ph ^ c.ph)
		return -d, d <= e.mediaDist
	})
}
