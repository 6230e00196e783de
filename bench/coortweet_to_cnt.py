#!/usr/bin/env python3
"""Write CooRTweet's bundled data sets as the Coordination Network
Toolkit's CSV, the way the reference edges in
../shared/datasets/peer-edges were made:

    coortweet_to_cnt.py russian russian_coord_tweets.csv OUT.csv
        one row per share: message_id = content_id, user_id = account_id,
        repost_id = object_id (the retweeted tweet), timestamp_share
    coortweet_to_cnt.py german german_elections.csv OUT.csv
        one row per post with its URL tokens (url_id values, space
        separated); posts without a URL dropped, since the toolkit would
        treat an empty URL as a shared link
"""
import csv
import sys

HEAD = ["message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp", "urls"]


def main():
    kind, src, dst = sys.argv[1:4]
    with open(src, newline="", encoding="utf-8") as f, open(dst, "w", newline="", encoding="utf-8") as o:
        r, w = csv.DictReader(f), csv.writer(o)
        w.writerow(HEAD)
        if kind == "russian":
            for row in r:
                w.writerow([row["content_id"], row["account_id"], row["account_id"], row["object_id"], "", "", row["timestamp_share"], ""])
            return
        if kind != "german":
            sys.exit(f"unknown data set {kind!r}: want russian or german")
        posts = {}
        for row in r:
            if not row["post_id"] or not row["url_id"]:
                continue
            p = posts.setdefault(row["post_id"], [row["account_id"], row["timestamp"], []])
            if row["url_id"] not in p[2]:
                p[2].append(row["url_id"])
        for pid, (acc, ts, urls) in posts.items():
            w.writerow([pid, acc, acc, "", "", "", ts, " ".join(urls)])


if __name__ == "__main__":
    main()
