package scenario

// Eval is how well predicted clusters recover the planted networks, at
// the level of accounts: what an analyst would act on.
type Eval struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	// TruePositives are predicted accounts that belong to a planted
	// network, FalsePositives those that do not, FalseNegatives the
	// members no cluster holds. Each account counts once, however many
	// clusters hold it.
	TruePositives  int           `json:"true_positives"`
	FalsePositives int           `json:"false_positives"`
	FalseNegatives int           `json:"false_negatives"`
	Networks       []NetworkEval `json:"networks"`
}

// NetworkEval is the recovery of one planted network.
type NetworkEval struct {
	Name   string  `json:"name"`
	Size   int     `json:"size"`
	Found  int     `json:"found"` // members in some cluster
	Recall float64 `json:"recall"`
	// BestCluster is the index of the cluster with the highest Jaccard
	// similarity to the network's members (the first on ties), -1 when
	// no cluster holds a member.
	BestCluster int     `json:"best_cluster"`
	BestOverlap int     `json:"best_overlap"` // members in that cluster
	BestJaccard float64 `json:"best_jaccard"`
}

// Score rates clusters of account keys ("twitter:<id>") against the
// planted networks. A predicted account is a true positive when it is a
// member of any network, whichever cluster holds it, since telling which
// operation it belongs to is a finer question that BestCluster answers.
// Leaders are ignored: flagging an account that a network amplifies is
// not an error, and a co-action detector cannot be asked to find it.
// Precision is 0 when nothing is predicted.
func (t Truth) Score(clusters [][]string) Eval {
	member := map[string]bool{}
	leader := map[string]bool{}
	for _, n := range t.Networks {
		for _, m := range n.Members {
			member[m] = true
		}
		for _, l := range n.Leaders {
			leader[l] = true
		}
	}
	predicted := map[string]bool{}
	var e Eval
	for _, c := range clusters {
		for _, a := range c {
			if predicted[a] || leader[a] && !member[a] {
				continue
			}
			predicted[a] = true
			if member[a] {
				e.TruePositives++
			} else {
				e.FalsePositives++
			}
		}
	}
	e.FalseNegatives = len(member) - e.TruePositives
	e.Precision = ratio(e.TruePositives, e.TruePositives+e.FalsePositives)
	e.Recall = ratio(e.TruePositives, len(member))
	if e.Precision+e.Recall > 0 {
		e.F1 = 2 * e.Precision * e.Recall / (e.Precision + e.Recall)
	}
	for _, n := range t.Networks {
		ne := NetworkEval{Name: n.Name, Size: len(n.Members), BestCluster: -1}
		in := make(map[string]bool, len(n.Members))
		for _, m := range n.Members {
			in[m] = true
			if predicted[m] {
				ne.Found++
			}
		}
		ne.Recall = ratio(ne.Found, len(n.Members))
		for i, c := range clusters {
			seen := map[string]bool{}
			overlap := 0
			for _, a := range c {
				if !seen[a] {
					seen[a] = true
					if in[a] {
						overlap++
					}
				}
			}
			if overlap == 0 {
				continue
			}
			j := float64(overlap) / float64(len(seen)+len(in)-overlap)
			if j > ne.BestJaccard {
				ne.BestCluster, ne.BestOverlap, ne.BestJaccard = i, overlap, j
			}
		}
		e.Networks = append(e.Networks, ne)
	}
	return e
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
