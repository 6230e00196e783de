package graph

import (
	"fmt"
	"testing"
)

func exactJ(a, b string, k int) float64 {
	sh := func(s string) map[string]bool {
		n, _ := normaliseText(nil, s)
		r := []rune(string(n))
		m := map[string]bool{}
		kk := min(k, len(r))
		for i := 0; i+kk <= len(r); i++ {
			m[string(r[i:i+kk])] = true
		}
		return m
	}
	A, B := sh(a), sh(b)
	in := 0
	for x := range A {
		if B[x] {
			in++
		}
	}
	return float64(in) / float64(len(A)+len(B)-in)
}

func TestZZExp(t *testing.T) {
	orig := "Les médias cachent la vérité sur le programme de Macron, il va supprimer les retraites des français dès son élection, partagez avant la censure !"
	v1 := "Les médias cachent la vérité sur le programme de Macron, il va supprimer les pensions des français dès son élection, partagez avant la censure !"
	v2 := "Les médias cachent la vérité sur le projet de Macron, il va supprimer les retraites des français dès son élection, partagez avant la censure 🔥 https://bit.ly/x"
	v3 := "@Marine Les medias cachent la verite sur le programme de Macron, il va supprimer les retraites des francais des son election, partagez avant la censure"
	topic := "Macron a présenté son programme sur les retraites, les médias en parlent beaucoup mais les français restent sceptiques avant l'élection"
	topic2 := "Le programme de Macron sur les retraites des français est flou, les médias ne posent pas les bonnes questions avant son élection"
	all := []string{orig, v1, v2, v3, topic, topic2}
	for k := 3; k <= 6; k++ {
		fmt.Printf("k=%d:", k)
		for i := range all {
			for j := i + 1; j < len(all); j++ {
				fmt.Printf(" %d-%d:%.2f", i, j, exactJ(all[i], all[j], k))
			}
		}
		fmt.Println()
	}
	sig := func(s string) []uint32 { ts, _, _ := signText(nil, s, 1); return ts.sig }
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			fmt.Printf(" %d-%d:%.2f", i, j, float64(agreement(sig(all[i]), sig(all[j])))/sigSize)
		}
	}
	fmt.Println()
	for _, th := range []float64{0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1} {
		b, r := lshParams(th)
		fmt.Println(th, b, r, needAgreement(th))
	}
}
