package graph
import ("time";"os";"strconv";"testing";"fmt")
var testLevel = func() int { l, _ := strconv.Atoi(os.Getenv("LVL")); return l }()
func TestDbg(t *testing.T) {
	for _, part := range []float64{0.5, 0.35, 0.25} {
	for _, wr := range []time.Duration{6*time.Hour, 24*time.Hour} { for _, lv := range []int{0, 1, -1} {
		s := genStreamP(9, []int{10, 20, 30, 15, 25}, 3000, 40000, 40, part)
		e := mustNew(t, Config{Level: lv, WeakRetention: wr})
		for _, p := range s.posts { e.Add(p) }
		cs := e.Detect()
		line := fmt.Sprintf("part %.2f lvl %d: %d clusters strong %d;", part, lv, len(cs), e.Stats().StrongEdges)
		org := 0
		for _, c := range cs { for _, m := range c.Members { if s.orgs[m] { org++ } } }
		for g, members := range s.groups {
			bestN, best := 0, -1
			for i, c := range cs { n := 0; for _, m := range c.Members { if _, ok := s.group[m]; ok && s.group[m] == g { n++ } }; if n > bestN { bestN, best = n, i } }
			if best < 0 { line += " miss"; continue }
			line += fmt.Sprintf(" %d/%d/%d", bestN, len(members), len(cs[best].Members))
		}
		t.Log(wr, line, "org", org)
	}}}
}
