#!/usr/bin/env python3
"""Agreement of a tool's co-action edges with a reference edge list.

    edge_agree.py REFERENCE.csv TOOL.csv [--min-weight W]

Both files are CSV with a header whose first two columns are the two
accounts and which has a "weight" column. Edges are undirected: a pair
listed in both directions counts once, with the larger weight (the
Coordination Network Toolkit's tables hold both directions; the reference
files in ../shared/datasets/peer-edges are already merged that way).
Self-loops are dropped. Prints one JSON object: edges in each, in both,
only in one, equal weights among the common ones, and the Jaccard index
of the two edge sets.
"""
import csv
import json
import sys


def load(path, min_weight):
    edges = {}
    with open(path, newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        head = next(r)
        wi = head.index("weight")
        for row in r:
            a, b = row[0], row[1]
            if a == b:
                continue
            w = float(row[wi])
            if w < min_weight:
                continue
            k = (min(a, b), max(a, b))
            edges[k] = max(edges.get(k, 0), w)
    return edges


def main():
    args = sys.argv[1:]
    mw = 0.0
    if "--min-weight" in args:
        i = args.index("--min-weight")
        mw = float(args[i + 1])
        del args[i : i + 2]
    ref, tool = load(args[0], mw), load(args[1], mw)
    common = ref.keys() & tool.keys()
    same = sum(1 for k in common if ref[k] == tool[k])
    union = len(ref.keys() | tool.keys())
    print(json.dumps({
        "reference": len(ref), "tool": len(tool), "common": len(common),
        "only_reference": len(ref) - len(common), "only_tool": len(tool) - len(common),
        "same_weight": same, "jaccard": len(common) / union if union else 1.0,
    }))


if __name__ == "__main__":
    main()
