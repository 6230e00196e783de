"""Compare the Coordination Network Toolkit's co_retweet edges with Vigie's.

Usage: python cnt_compare.py TOOLKIT_DB VIGIE_EDGES_CSV [MIN_WEIGHT]

The toolkit stores its network in the table co_retweet_network(user_1,
user_2, weight), once per direction: the weight of (u, v) is the number of
u's messages that have a message of v on the same reposted post within the
window. It also stores self-loops (a message pairs with itself). Vigie
writes undirected edges (user_1 < user_2) whose weight is the number of
distinct posts both reposted within the window.

When no account reposts the same post twice (corepostgen guarantees it),
both directions of a toolkit edge have the same weight and it equals
Vigie's. This script drops self-loops, checks the two directions agree,
merges them into undirected edges keyed (min, max), keeps weights >=
MIN_WEIGHT (default 2, the toolkit's default min_edge_weight) and compares
edge sets and weights. It prints one JSON object and exits 0 when the sets
and weights are equal, 1 otherwise. vigie_subset tells whether every Vigie
edge is a toolkit edge of equal or higher weight, which is what Vigie's
streaming defaults (capped, forgetting weak edges) must give.
"""

import csv
import json
import sqlite3
import sys


def toolkit_edges(db_path, min_weight):
    db = sqlite3.connect(db_path)
    edges, asymmetric, self_loops = {}, 0, 0
    for u, v, w in db.execute("select user_1, user_2, weight from co_retweet_network"):
        u, v, w = str(u), str(v), int(w)
        if u == v:
            self_loops += 1
            continue
        key = (u, v) if u < v else (v, u)
        if key in edges:
            if edges[key] != w:
                asymmetric += 1
            edges[key] = max(edges[key], w)
        else:
            edges[key] = w
    db.close()
    return {k: w for k, w in edges.items() if w >= min_weight}, asymmetric, self_loops


def account(key):
    """Strips Vigie's "platform:" prefix from an account key."""
    platform, sep, rest = key.partition(":")
    return rest if sep and platform.isalpha() else key


def vigie_edges(path, min_weight):
    """Reads an edge list whose first two columns are the accounts and
    which has a weight column: vigie detect's edges.csv (account_a,
    account_b, ...) or vigiecorepost's (user_1, user_2, weight)."""
    edges = {}
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        wcol = header.index("weight")
        for row in reader:
            w = int(row[wcol])
            if w >= min_weight:
                a, b = account(row[0]), account(row[1])
                edges[(a, b) if a < b else (b, a)] = w
    return edges


def main():
    db_path, vigie_path = sys.argv[1], sys.argv[2]
    min_weight = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    cnt, asymmetric, self_loops = toolkit_edges(db_path, min_weight)
    vig = vigie_edges(vigie_path, min_weight)
    only_cnt = [k for k in cnt if k not in vig]
    only_vig = [k for k in vig if k not in cnt]
    differ = [k for k in cnt if k in vig and cnt[k] != vig[k]]
    lower = [k for k in differ if vig[k] < cnt[k]]
    out = {
        "toolkit_edges": len(cnt),
        "vigie_edges": len(vig),
        "common": len(cnt) - len(only_cnt),
        "only_toolkit": len(only_cnt),
        "only_vigie": len(only_vig),
        "weight_differs": len(differ),
        "vigie_weight_lower": len(lower),
        "vigie_subset": not only_vig and len(lower) == len(differ),
        "toolkit_asymmetric_pairs": asymmetric,
        "toolkit_self_loops": self_loops,
        "examples": {
            "only_toolkit": [list(k) + [cnt[k]] for k in sorted(only_cnt)[:3]],
            "only_vigie": [list(k) + [vig[k]] for k in sorted(only_vig)[:3]],
            "weight_differs": [list(k) + [cnt[k], vig[k]] for k in sorted(differ)[:3]],
        },
        "equal": not only_cnt and not only_vig and not differ,
    }
    print(json.dumps(out))
    sys.exit(0 if out["equal"] else 1)


if __name__ == "__main__":
    main()
