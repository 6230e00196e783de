package graph

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestZZBias(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("le la les de des du un une et est pour contre macron fillon melenchon retraites programme medias election vote france francais verite censure partagez avant apres peuple finance europe emploi securite immigration")
	var sumE, sumX float64
	var sq float64
	n := 0
	for range 300 {
		var a []string
		for range 20 + r.IntN(15) {
			a = append(a, words[r.IntN(len(words))])
		}
		b := append([]string(nil), a...)
		for range 1 + r.IntN(3) {
			b[r.IntN(len(b))] = words[r.IntN(len(words))] + "x"
		}
		sa, sb := strings.Join(a, " "), strings.Join(b, " ")
		x := exactJ(sa, sb, shingleRunes)
		ta, _, _ := signText(nil, sa, 1)
		tb, _, _ := signText(nil, sb, 1)
		e := float64(agreement(ta.sig, tb.sig)) / sigSize
		sumE += e
		sumX += x
		sq += (e - x) * (e - x)
		n++
	}
	fmt.Printf("mean exact %.3f mean est %.3f rmse %.3f\n", sumX/float64(n), sumE/float64(n), (sq / float64(n)))
}
