"""Score clustered accounts against corepostgen's planted groups.

Usage: python planted_score.py NODES_CSV TRUTH_JSON

NODES_CSV is vigie detect's nodes.csv (account_id, cluster): an account is
predicted coordinated when its cluster is not empty. Prints one JSON
object: clusters, clustered accounts, and account-level precision (share
of clustered accounts that are planted) and recall (share of planted
accounts that are clustered).
"""

import csv
import json
import sys


def main():
    nodes_path, truth_path = sys.argv[1], sys.argv[2]
    with open(truth_path, encoding="utf-8") as f:
        planted = {a for g in json.load(f)["groups"] for a in g}
    clustered, clusters = set(), set()
    with open(nodes_path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row.get("cluster"):
                platform, sep, rest = row["account_id"].partition(":")
                clustered.add(rest if sep and platform.isalpha() else row["account_id"])
                clusters.add(row["cluster"])
    tp = len(clustered & planted)
    print(json.dumps({
        "clusters": len(clusters),
        "cluster_accounts": len(clustered),
        "precision": tp / len(clustered) if clustered else 0.0,
        "recall": tp / len(planted) if planted else 0.0,
    }))


if __name__ == "__main__":
    main()
