#!/usr/bin/env python3
"""The one table of `make bench`: every figure of a run in one place.

    table.py OUT_DIR [DOC]

Reads what `make bench` left in OUT_DIR (default var/bench):

  go-*.txt            Go benchmark output (bench/tee.sh): throughput,
                      latency and memory per benchmark
  e2e.txt             TestEndToEnd's log (posts/s end to end)
  eval-P-C.out/.time  `vigie eval --json` per scenario preset P and
                      config C (default, fast), and its time -v
  detect-P.time       `vigie detect` on the whole scenario file
  cnt-P-*.time        the toolkit's preprocess and computes
  cnt-P-score.json    the toolkit's clusters rated (bench/cmd/peerscore)
  agree-*.json        edge agreement with ../shared/datasets/peer-edges
  ds-*.time           runs on the real data sets
  peers-*.md          bench/peers.sh's sections (co-repost at scale)

prints the table (Markdown), and with DOC writes it between the markers
<!-- bench:begin --> and <!-- bench:end --> (added before the first
second-level heading when absent), with the machine, versions and date, so
hand-written text around it stays. A figure whose input is missing is
left out: a partial run still gives a table of what it measured.
"""
import datetime
import glob
import json
import os
import platform
import re
import subprocess
import sys

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def read(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return None


def load_json(path):
    text = read(path)
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def timev(path):
    """(wall seconds, peak RSS MB) from a /usr/bin/time -v file."""
    text = read(path)
    if not text:
        return None
    wall = rss = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("Elapsed (wall clock) time"):
            v = line.rsplit(" ", 1)[1]
            parts = [float(p) for p in v.split(":")]
            wall = 0.0
            for p in parts:
                wall = wall * 60 + p
        elif line.startswith("Maximum resident set size"):
            rss = int(line.rsplit(" ", 1)[1]) / 1024
    if wall is None:
        return None
    return wall, rss


def f3(x):
    return "—" if x is None else f"{x:.3f}"


def dur(s):
    if s is None:
        return "—"
    s = int(round(s))
    h, m, sec = s // 3600, s % 3600 // 60, s % 60
    if h:
        return f"{h}h{m:02d}m"
    if m:
        return f"{m}m{sec:02d}s"
    return f"{sec}s"


def num(x, digits=0):
    if x is None:
        return "—"
    return f"{x:,.{digits}f}"


def go_rows(out):
    """One row per Go benchmark: its throughput, latency and memory."""
    rows = []
    seen = set()
    for path in sorted(glob.glob(os.path.join(out, "go-*.txt"))):
        pkg = ""
        for line in (read(path) or "").splitlines():
            m = re.match(r"^pkg: (\S+)", line)
            if m:
                pkg = m.group(1).split("/vigie/", 1)[-1]
            if not line.startswith("Benchmark") or "ns/op" not in line:
                continue
            f = line.split()
            name = re.sub(r"-\d+$", "", f[0])
            metrics = {}
            for i in range(2, len(f) - 1, 2):
                try:
                    metrics[f[i + 1]] = float(f[i])
                except ValueError:
                    pass
            key = (pkg, name)
            if key in seen:
                continue
            seen.add(key)
            thr = [f"{num(v)} {u}" for u, v in metrics.items() if u.endswith("/s")]
            # Counts per op (posts/op, rows/op) over the op's time are rates too.
            if not thr and metrics.get("ns/op"):
                thr = [f"{num(v / (metrics['ns/op'] / 1e9))} {u[:-3]}/s" for u, v in metrics.items()
                       if u.endswith("/op") and u not in ("ns/op", "B/op", "allocs/op")]
            lat = []
            if "ns/op" in metrics:
                ns = metrics["ns/op"]
                lat.append(f"{ns / 1e9:.3g} s/op" if ns >= 1e8 else f"{ns / 1e6:.3g} ms/op" if ns >= 1e5 else f"{ns:.3g} ns/op")
            if "ns/post" in metrics:
                lat.append(f"{metrics['ns/post']:.3g} ns/post")
            mem = []
            if "B/op" in metrics:
                mem.append(f"{metrics['B/op'] / 1048576:.3g} MB/op")
            for u in ("heapB/edge", "heapB/held"):
                if u in metrics:
                    mem.append(f"{metrics[u]:.3g} {u}")
            cells = "; ".join(x for x in (", ".join(thr), ", ".join(lat), ", ".join(mem)) if x)
            rows.append(("Go benchmark", f"{pkg} {name}", cells, "", ""))
    return rows


def e2e_rows(out):
    text = read(os.path.join(out, "e2e.txt")) or ""
    m = re.search(r"e2e: (\d+) posts in (\S+) \((\d+) posts/s end to end\), (\d+) clusters, account precision ([\d.]+) recall ([\d.]+) F1 ([\d.]+)", text)
    if not m:
        return []
    return [("throughput", "bundled scenario end to end (TestEndToEnd: ingest, Kafka, graph, store)",
             f"{num(int(m.group(3)))} posts/s ({m.group(1)} posts in {m.group(2)}); P {m.group(5)} R {m.group(6)} F1 {m.group(7)}", "", "")]


def scenario_rows(out):
    rows = []
    presets = []
    for path in sorted(glob.glob(os.path.join(out, "eval-*-default.out"))):
        presets.append(os.path.basename(path)[len("eval-"):-len("-default.out")])
    order = {"compact": 0, "hard": 1, "organic-week": 2}
    presets.sort(key=lambda p: (order.get(p, 9), p))
    for p in presets:
        cnt = load_json(os.path.join(out, f"cnt-{p}-score.json"))
        for cfg, label in (("default", "defaults"), ("fast", "bench/eval-fast.yaml")):
            r = load_json(os.path.join(out, f"eval-{p}-{cfg}.out"))
            if r is None:
                if os.path.exists(os.path.join(out, f"eval-{p}-{cfg}.failed")):
                    rows.append(("quality", f"{p}, Vigie {label}", "failed (see eval-%s-%s.err)" % (p, cfg), "", ""))
                continue
            tk = cnt if cfg == "default" else None
            nets = len(r.get("networks") or [])
            if cfg == "default":
                rows.append(("scenario", p, f"{num(r['posts'])} posts, {num(r['accounts'])} accounts, {nets} planted networks, {r['days']:.0f} days",
                             "", "vigie gen --preset " + p))
            scen = f"{p}, {label}"
            if nets:
                rows.append(("quality", f"{scen}: account P / R / F1",
                             f"{f3(r['precision'])} / {f3(r['recall'])} / {f3(r['f1'])}",
                             f"{f3(tk['precision'])} / {f3(tk['recall'])} / {f3(tk['f1'])}" if tk else "",
                             "toolkit: components of its co_retweet + co_link + co_reply edges, weight ≥ 3" if tk else ""))
                rows.append(("quality", f"{scen}: ARI / NMI", f"{f3(r['adjusted_rand'])} / {f3(r['nmi'])}",
                             f"{f3(tk['adjusted_rand'])} / {f3(tk['nmi'])}" if tk else "", ""))
                rows.append(("quality", f"{scen}: stance accuracy", f"{f3(r['stance_accuracy'])} ({r['stance_correct']}/{r['stance_judged']})",
                             "n/a (no stance)" if tk else "", ""))
                rows.append(("latency", f"{scen}: networks detected, time to detection median / max",
                             f"{r['detected']}/{nets}, {dur(r['median_ttd_seconds'])} / {dur(r['max_ttd_seconds'])}",
                             "n/a (batch)" if tk else "", "stream time from each network's first post"))
                if r.get("reacted"):
                    rows.append(("latency", f"{scen}: reaction time median / max",
                                 f"{dur(r['median_reaction_seconds'])} / {dur(r['max_reaction_seconds'])} ({r['reacted']} networks)",
                                 "", "stream time from enough evidence (3 members joined by edges of min_weight) to detection"))
            fa = f"{r['false_alerts']} ({r['false_alerts_per_day']:.2f}/day); active clusters: {r['active_clusters']}"
            tkfa = f"{tk['false_clusters']} false clusters ({tk['false_clusters_per_day']:.2f}/day), {tk['flagged']} accounts flagged" if tk else ""
            rows.append(("quality", f"{scen}: false alerts", fa, tkfa, ""))
            t = timev(os.path.join(out, f"eval-{p}-{cfg}.time"))
            if t:
                rows.append(("throughput", f"{scen}: replay through every stage (vigie eval)",
                             f"{t[0]:.1f} s ({num(r['posts'] / t[0])} posts/s), {num(t[1])} MB", "", "embedded Kafka and SQLite, as fast as possible"))
        d = timev(os.path.join(out, f"detect-{p}.time"))
        parts = [timev(os.path.join(out, f"cnt-{p}-{k}.time")) for k in ("preprocess", "co_retweet", "co_link", "co_reply")]
        if d or all(parts):
            tk = ""
            if all(parts):
                tk = f"{sum(x[0] for x in parts):.1f} s ({' + '.join(f'{x[0]:.1f}' for x in parts)}), {num(max(x[1] for x in parts))} MB"
            rows.append(("speed", f"{p}: co-action network of the whole file (repost, link, reply; 60 s)",
                         f"{d[0]:.1f} s, {num(d[1])} MB" if d else "—", tk,
                         "Vigie: vigie detect (engine + communities); toolkit: preprocess + co_retweet + co_link + co_reply"))
    return rows


def dataset_rows(out):
    rows = []
    for ds, what, ref in (("russian", "CooRTweet Russian retweets, co_retweet 60 s, weight ≥ 2", "cnt_russian_coretweet_tw60_edges.csv"),
                          ("german", "CooRTweet German election links, co_link 30 s", "cnt_german_colink_tw30_edges.csv")):
        cells = []
        for tool in ("vigie", "cnt"):
            a = load_json(os.path.join(out, f"agree-{ds}-{tool}.json"))
            t = timev(os.path.join(out, f"ds-{tool}-{ds}.time"))
            if tool == "cnt":
                pre = timev(os.path.join(out, f"ds-cnt-{ds}-preprocess.time"))
                if t and pre:
                    t = (t[0] + pre[0], max(t[1], pre[1]))
            if a is None:
                cells.append("—")
                continue
            c = f"{a['common']:,}/{a['reference']:,} reference edges, {a['only_tool']:,} extra, {a['same_weight']:,} same weight"
            if t:
                c += f"; {t[0]:.1f} s, {num(t[1])} MB"
            cells.append(c)
        if any(c != "—" for c in cells):
            rows.append(("agreement", f"{what} vs peer-edges/{ref}", cells[0], cells[1], "Vigie: vigie detect --compat cnt"))
    return rows


def peers_rows(out):
    rows = []
    for path in sorted(glob.glob(os.path.join(out, "peers-*.md"))):
        for line in (read(path) or "").splitlines():
            if not line.startswith("| ") or line.startswith("| rows") or line.startswith("| benchmark"):
                continue
            c = [x.strip() for x in line.strip().strip("|").split("|")]
            if len(c) == 8:  # rows | tool | wall | peak | all | edges | same | speed-up
                tool = c[1]
                cell = f"{c[2]} s, {c[3]} MB (all processes {c[4]} MB)"
                if tool.startswith("toolkit"):
                    rows.append(("speed", f"co-repost network, {c[0]} rows (bench/peers.sh)", "", cell + f"; {c[5]}", tool))
                else:
                    rows.append(("speed", f"co-repost network, {c[0]} rows (bench/peers.sh): {tool}", cell + (f"; {c[7]} the toolkit's speed" if c[7] not in ("—", "") else ""), "", c[6]))
            elif len(c) == 5:  # communities
                rows.append(("latency", f"community detection {c[0]}", f"{c[1]} s/op, {c[2]} MB allocated, {c[3]} communities, Q {c[4]}", "", ""))
    return rows


def machine(out):
    cpu = ""
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in open("/proc/meminfo", encoding="utf-8"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1048576:.0f} GB"
    except OSError:
        pass
    env = {}
    for line in (read(os.path.join(out, "scenarios.env")) or "").splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            env[k] = v
    try:
        gover = subprocess.run([os.environ.get("GO", "go"), "env", "GOVERSION"], capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        gover = "?"
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    commit = os.environ.get("VIGIE_COMMIT")
    if not commit:  # as bench/peers.sh does
        try:
            commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=30).stdout.strip() or "unknown"
        except (OSError, subprocess.SubprocessError):
            commit = "unknown"
    load = ""
    try:
        load = open("/proc/loadavg").read().split()[0]
    except OSError:
        pass
    return (f"Run {date} on {os.cpu_count()} cores ({cpu}), {mem}, {platform.system()} {platform.release()}; "
            f"{gover}, Python {env.get('python', platform.python_version())} (SQLite {env.get('sqlite', '?')}), "
            f"coordination-network-toolkit {env.get('cnt_version', '?')}, Vigie {commit}. Load average (1 min) {load} at the end.")


def table(out):
    rows = go_rows(out) + e2e_rows(out) + scenario_rows(out) + dataset_rows(out) + peers_rows(out)
    lines = ["| area | measurement | Vigie | QUT toolkit | notes |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append("| " + " | ".join(x.replace("|", "/") for x in r) + " |")
    return "\n".join(lines) + "\n"


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "var/bench"
    doc = sys.argv[2] if len(sys.argv) > 2 else None
    body = ("### All figures of the last `make bench`\n\n" + machine(out) + "\n\n"
            "Written by `bench/table.py` from the outputs in `var/bench`; everything outside the "
            "`bench:` markers is by hand. Scenario rows: docs/evaluation.md explains the metrics; "
            "\"defaults\" is the shipped configuration, `bench/eval-fast.yaml` detection every 5 minutes "
            "of stream time, the reply signal and alerts from risk 40.\n\n" + table(out))
    print(body)
    if not doc:
        return
    text = read(doc) or "# Benchmarks\n"
    block = f"{BEGIN}\n{body}{END}\n"
    pat = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END) + "\n?", re.S)
    if pat.search(text):
        text = pat.sub(lambda m: block, text, count=1)
    else:
        m = re.search(r"^## ", text, re.M)
        at = m.start() if m else len(text)
        text = text[:at] + block + "\n" + text[at:]
    with open(doc, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
