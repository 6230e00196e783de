# Computes the reference values of eval/testdata/partitions.json with
# scikit-learn, once: python3 -m venv v && v/bin/pip install scikit-learn &&
# v/bin/python eval/testdata/sklearn_partitions.py > eval/testdata/partitions.json
# The Go test (TestPartitionMetricsMatchSklearn) recomputes every case.
import json, random, sys
import sklearn
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

cases = [
    ("refinement", list("aabb"), list("xxyz")),
    ("sklearn doc example", list("000111"), list("001122")),
    ("identical relabelled", list("aab"), list("yyx")),
    ("one group vs singletons", list("aaaa"), list("wxyz")),
    ("both singletons", list("abcd"), list("wxyz")),
    ("both one group", list("aaa"), list("xxx")),
    ("independent", list("aabb"), list("xyxy")),
    ("networks and organic singletons", ["n1","n1","n1","n2","n2","o1","o2","o3"], ["c1","c1","c2","c2","c2","c3","p2","c3"]),
]
rng = random.Random(10)
for i in range(4):
    n = rng.randint(20, 60)
    a = [str(rng.randint(0, 4)) for _ in range(n)]
    b = [str(rng.randint(0, 6)) for _ in range(n)]
    cases.append((f"random {i}", a, b))
out = {"sklearn": sklearn.__version__, "cases": []}
for name, a, b in cases:
    out["cases"].append({"name": name, "a": a, "b": b,
        "ari": adjusted_rand_score(a, b), "nmi": normalized_mutual_info_score(a, b)})
json.dump(out, sys.stdout, indent=1)
print()
