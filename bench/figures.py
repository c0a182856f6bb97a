#!/usr/bin/env python3
"""The side-by-side figures of the benchmarks against the silk reference,
in build/bench/results.json under "figures" (and "targets").

figures.py merge RESULTS SAMPLES
    SAMPLES holds one JSON object a line, one per measured run:
        {"figure": "ready_b100_inuse", "side": "ours" | "reference",
         "value": 0.231, "unit": "s", "better": "lower" | "higher",
         "stats": ["p50", "p99"], "note": "..."}
    For each figure and each statistic asked for it writes one figure
    object into RESULTS's "figures" array (replacing one of the same
    name, keeping the others and every other key of RESULTS):
        {"name": "ready_b100_inuse_p50", "unit": "s", "better": "lower",
         "ours": 0.23, "reference": 1.41, "ratio": 6.1, "runs": 20,
         "spread": {"ours": [MIN, MAX], "reference": [MIN, MAX]},
         "note": "...", "measured": {"date", "commit", "dirty",
         "load_average" (at the merge)}}
    ratio is how many times better ours is: reference / ours when lower
    is better (a time), ours / reference when higher is (a rate).
    Percentiles are nearest-rank: with 20 runs, p99 is the slowest run.
    A figure measured on one side only has no ratio.  Prints the table.

figures.py target RESULTS NAME TEXT EXPR
    Evaluates EXPR, a Python expression over ours(F), ref(F) and ratio(F)
    (F a figure's name) with max() and min(), records {"name", "text",
    "expr", "value", "met"} in RESULTS's "targets" (replacing one of the
    same name) and prints a line with MET or MISSED.  EXPR is a comparison; "value" is the left
    side's value.

figures.py table RESULTS [PREFIX]
    Prints the figures (those whose name starts with PREFIX).
"""

import datetime
import json
import os
import subprocess
import sys
import tempfile

from measure import percentile


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def save(path, obj):
    d = os.path.dirname(path) or "."
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".results.")
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def fmt(x):
    if x is None:
        return "-"
    if abs(x) >= 100:
        return "%.0f" % x
    if abs(x) >= 10:
        return "%.1f" % x
    if abs(x) >= 1:
        return "%.2f" % x
    return "%.3g" % x


def table(results, prefix=""):
    rows = [f for f in results.get("figures", [])
            if f["name"].startswith(prefix)]
    if not rows:
        return
    w = max(len(f["name"]) for f in rows)
    print("%-*s %10s %10s %-6s %7s %5s" % (w, "figure", "ours", "reference",
                                          "unit", "ratio", "runs"))
    for f in rows:
        ratio = "-" if f.get("ratio") is None else "%.2fx" % f["ratio"]
        print("%-*s %10s %10s %-6s %7s %5d" % (
            w, f["name"], fmt(f.get("ours")), fmt(f.get("reference")),
            f["unit"], ratio, f["runs"]))


def measured():
    """When, and of which commit, the figures are."""
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def git(*args):
        try:
            return subprocess.run(["git", "-C", top] + list(args),
                                  capture_output=True, text=True,
                                  check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None

    return {"date": datetime.datetime.now(datetime.timezone.utc)
            .strftime("%Y-%m-%dT%H:%M:%SZ"),
            "commit": git("rev-parse", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
            "load_average": open("/proc/loadavg").read().split()[:3]}


def merge(results_path, samples_path):
    groups = {}
    order = []
    with open(samples_path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            s = json.loads(line)
            key = s["figure"]
            if key not in groups:
                groups[key] = {"meta": s, "ours": [], "reference": []}
                order.append(key)
            side = s["side"]
            if side not in ("ours", "reference"):
                sys.exit("figures.py: %s: bad side '%s'" % (key, side))
            groups[key][side].append(float(s["value"]))

    new = []
    when = measured()
    for key in order:
        g = groups[key]
        meta = g["meta"]
        for stat in meta.get("stats", ["p50"]):
            p = float(stat.lstrip("p"))
            fig = {"name": "%s_%s" % (key, stat), "unit": meta["unit"],
                   "better": meta["better"], "ours": None,
                   "reference": None, "ratio": None,
                   "runs": max(len(g["ours"]), len(g["reference"])),
                   "spread": {}}
            for side in ("ours", "reference"):
                if g[side]:
                    fig[side] = round(percentile(sorted(g[side]), p), 6)
                    fig["spread"][side] = [round(min(g[side]), 6),
                                           round(max(g[side]), 6)]
            o, r = fig["ours"], fig["reference"]
            if o and r:
                fig["ratio"] = round(r / o if meta["better"] == "lower"
                                     else o / r, 3)
            if meta.get("note"):
                fig["note"] = meta["note"]
            fig["measured"] = when
            new.append(fig)

    results = load(results_path)
    names = {f["name"] for f in new}
    kept = [f for f in results.get("figures", []) if f["name"] not in names]
    results["figures"] = kept + new
    save(results_path, results)
    results = {"figures": new}
    table(results)


def target(results_path, name, text, expr):
    results = load(results_path)
    figs = {f["name"]: f for f in results.get("figures", [])}

    def get(fig, key):
        if fig not in figs or figs[fig].get(key) is None:
            sys.exit("figures.py: target %s: no %s for figure %s"
                     % (name, key, fig))
        return figs[fig][key]

    env = {"ours": lambda f: get(f, "ours"),
           "ref": lambda f: get(f, "reference"),
           "ratio": lambda f: get(f, "ratio"),
           "max": max, "min": min}
    met = bool(eval(expr, {"__builtins__": {}}, env))
    # The left side of the comparison, for the record.
    left = expr
    for op in (">=", "<=", ">", "<"):
        if op in expr:
            left = expr.split(op)[0]
            break
    value = eval(left, {"__builtins__": {}}, env)
    t = {"name": name, "text": text, "expr": expr,
         "value": round(float(value), 4), "met": met}
    results["targets"] = [x for x in results.get("targets", [])
                          if x["name"] != name] + [t]
    save(results_path, results)
    print("%-7s %s: %s (%s = %s)" % ("MET" if met else "MISSED", name, text,
                                     left.strip(), fmt(value)))


def main():
    a = sys.argv[1:]
    if len(a) == 3 and a[0] == "merge":
        merge(a[1], a[2])
    elif len(a) == 5 and a[0] == "target":
        target(a[1], a[2], a[3], a[4])
    elif len(a) in (2, 3) and a[0] == "table":
        table(load(a[1]), a[2] if len(a) == 3 else "")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
