#!/usr/bin/env python3
"""Timing and statistics helper for bench/run.

measure.py run SPEC RAW --phase NAME [--parallel] [--watch NAME=PID]...

    Runs the steps of SPEC (JSON lines) and appends one JSON line per
    timed step to RAW, tagged with phase NAME.  A step is

        {"op": "add", "argv": [...], "env": {...}, "stdin": "...",
         "timed": true}

    "env" replaces the environment (as env -i does; absent: inherited),
    "stdin" is the step's standard input (default empty), and steps with
    "timed": false are run and checked but not recorded (creating a veth,
    say).

    Each step is a direct child of this helper, started with
    posix_spawn(); nothing else (no shell, no 'ip netns exec') is inside
    the timed region, because bench/run starts the helper itself in the
    cell's namespace.  For every timed step it records:

      wall_ns    wall clock (CLOCK_MONOTONIC) from just before the spawn
                 to the reaping of the child by wait4();
      cpu_ns     user+system CPU of the child and of every descendant it
                 waited for (host-local, for cni-ovs), from the rusage
                 that wait4() returns;
      daemon_ns  CPU each watched daemon (--watch, e.g. ovsdb-server and
                 ovs-vswitchd) used, from /proc/PID/task/*/schedstat:
                 sequentially, from this step's start to the start of the
                 next step that is not a wait for the daemons to finish
                 ("op": "settle"), so what the step set off counts for
                 it; with --parallel, the batch's total divided evenly.

    Sequentially (the default) each step starts when the previous one
    has been reaped.  With --parallel all steps are spawned at once, in
    file order without waiting, and each is timed from its own spawn to
    its own exit.

    Exits 1, showing the step's output, if any step fails.

measure.py report RAW META JSON_OUT

    Reads what 'run' wrote (RAW) and the run's description (META, a JSON
    object written by bench/run), writes the results to JSON_OUT and
    prints the table.
"""

import argparse
import json
import os
import sys
import tempfile
import time


def proc_cpu_ns(pid):
    """CPU time process 'pid' has used so far, all threads, in ns: the sum
    of its threads' run times from /proc/PID/task/*/schedstat (exact),
    or else utime+stime from /proc/PID/stat (in 10 ms ticks)."""
    total = 0
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                    total += int(f.read().split()[0])
            except FileNotFoundError:
                pass            # The thread just exited.
        return total
    except OSError:
        pass
    with open("/proc/%d/stat" % pid) as f:
        stat = f.read()
    # The command name may hold spaces; the fields after it do not.
    fields = stat[stat.rindex(")") + 2:].split()
    ticks = int(fields[11]) + int(fields[12])       # utime, stime
    return ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


class Daemons:
    """CPU counters of the watched daemons."""

    def __init__(self, watch):
        self.pids = {}
        for w in watch:
            name, _, pid = w.partition("=")
            self.pids[name] = int(pid)

    def sample(self):
        return {n: proc_cpu_ns(p) for n, p in self.pids.items()}

    @staticmethod
    def delta(a, b, divide=1):
        return {n: (b[n] - a[n]) // divide for n in a}


def spawn(step, tmpdir, n):
    """Starts 'step'; returns (pid, start_ns, out_path, err_path)."""
    in_path = os.path.join(tmpdir, "%d.in" % n)
    out_path = os.path.join(tmpdir, "%d.out" % n)
    err_path = os.path.join(tmpdir, "%d.err" % n)
    with open(in_path, "w") as f:
        f.write(step.get("stdin", ""))
    wr = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    actions = [(os.POSIX_SPAWN_OPEN, 0, in_path, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_OPEN, 1, out_path, wr, 0o600),
               (os.POSIX_SPAWN_OPEN, 2, err_path, wr, 0o600)]
    env = step.get("env")
    if env is None:
        env = dict(os.environ)
    start = time.perf_counter_ns()
    pid = os.posix_spawnp(step["argv"][0], step["argv"], env,
                          file_actions=actions)
    return pid, start, out_path, err_path


def failure(step, status, out_path, err_path):
    """Returns a description of the step's failure, or None if it
    succeeded."""
    rc = os.waitstatus_to_exitcode(status)
    if rc == 0:
        return None
    with open(out_path, errors="replace") as f:
        out = f.read().strip()
    with open(err_path, errors="replace") as f:
        err = f.read().strip()
    return ("measure: step failed (exit %d): %s\n  env: %s\n"
            "  stdout: %s\n  stderr: %s\n"
            % (rc, " ".join(step["argv"]), json.dumps(step.get("env")),
               out, err))


def check(step, status, out_path, err_path):
    """Exits, showing the step's output, if it failed."""
    msg = failure(step, status, out_path, err_path)
    if msg:
        sys.stderr.write(msg)
        sys.exit(1)


def record(step, start, end, rusage):
    cpu = rusage.ru_utime + rusage.ru_stime
    return {"op": step["op"], "wall_ns": end - start,
            "cpu_ns": int(round(cpu * 1e9))}


def run_sequential(steps, tmpdir, daemons):
    records = []
    window = None               # (record, daemon sample at its start)
    for n, step in enumerate(steps):
        timed = step.get("timed", True)
        if window and step.get("op") != "settle":
            window[0]["daemon_ns"] = Daemons.delta(window[1],
                                                   daemons.sample())
            window = None
        if timed:
            before = daemons.sample()
        pid, start, o, e = spawn(step, tmpdir, n)
        _, status, rusage = os.wait4(pid, 0)
        end = time.perf_counter_ns()
        check(step, status, o, e)
        if timed:
            rec = record(step, start, end, rusage)
            records.append(rec)
            window = (rec, before)
    if window:
        window[0]["daemon_ns"] = Daemons.delta(window[1], daemons.sample())
    return records


def run_parallel(steps, tmpdir, daemons):
    records = []
    running = {}
    before = daemons.sample()
    for n, step in enumerate(steps):
        pid, start, o, e = spawn(step, tmpdir, n)
        running[pid] = (step, start, o, e)
    failed = []
    while running:              # Reap them all, even after a failure.
        pid, status, rusage = os.wait4(-1, 0)
        end = time.perf_counter_ns()
        step, start, o, e = running.pop(pid)
        msg = failure(step, status, o, e)
        if msg:
            failed.append(msg)
        elif step.get("timed", True):
            records.append(record(step, start, end, rusage))
    if failed:
        sys.stderr.write("".join(failed))
        sys.exit(1)
    share = Daemons.delta(before, daemons.sample(), max(len(records), 1))
    for rec in records:
        rec["daemon_ns"] = share
    return records


def cmd_run(args):
    ap = argparse.ArgumentParser(prog="measure.py run")
    ap.add_argument("spec")
    ap.add_argument("raw")
    ap.add_argument("--phase", required=True)
    ap.add_argument("--parallel", action="store_true")
    ap.add_argument("--watch", action="append", default=[])
    a = ap.parse_args(args)
    with open(a.spec) as f:
        steps = [json.loads(line) for line in f if line.strip()]

    daemons = Daemons(a.watch)
    with tempfile.TemporaryDirectory(prefix="cni-ovs-bench-") as tmpdir:
        run = run_parallel if a.parallel else run_sequential
        records = run(steps, tmpdir, daemons)
    with open(a.raw, "a") as f:
        for rec in records:
            rec["phase"] = a.phase
            f.write(json.dumps(rec, sort_keys=True) + "\n")


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list (p in 0..100)."""
    rank = -(-len(sorted_values) * p // 100)            # ceil
    return sorted_values[max(1, int(rank)) - 1]


def summarize(recs):
    """Latency percentiles and mean CPU (ms) of one operation's records."""
    wall = sorted(r["wall_ns"] / 1e6 for r in recs)
    n = len(recs)
    out = {"n": n, "p50_ms": percentile(wall, 50),
           "p90_ms": percentile(wall, 90), "p99_ms": percentile(wall, 99),
           "min_ms": wall[0], "max_ms": wall[-1], "mean_ms": sum(wall) / n,
           "cpu_ms": sum(r["cpu_ns"] for r in recs) / n / 1e6}
    names = sorted({k for r in recs for k in r.get("daemon_ns", {})})
    out["daemon_cpu_ms"] = {
        k: sum(r.get("daemon_ns", {}).get(k, 0) for r in recs) / n / 1e6
        for k in names}
    return out


# (phase prefix, op) -> key in results.json, and the table's label.
OPERATIONS = [
    ("seq", "add", "cni_add", "cni-ovs ADD"),
    ("seq", "del", "cni_del", "cni-ovs DEL"),
    ("par", "add", "cni_add_concurrent", "cni-ovs ADD, %d at once"),
    ("par", "del", "cni_del_concurrent", "cni-ovs DEL, %d at once"),
    ("seq", "add-port", "vsctl_add_port", "ovs-vsctl add-port"),
    ("seq", "del-port", "vsctl_del_port", "ovs-vsctl del-port"),
    ("seq", "veth-add-port", "veth_add_port", "veth + add-port"),
    ("seq", "del-port-veth", "del_port_veth", "del-port + veth del"),
]


def cmd_report(args):
    raw_path, meta_path, json_out = args
    with open(meta_path) as f:
        doc = json.load(f)
    by_phase_op = {}
    with open(raw_path) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                by_phase_op.setdefault((r["phase"], r["op"]), []).append(r)

    results = []
    for base in doc["base_ports"]:
        entry = {"base_ports": base}
        for phase, op, key, _ in OPERATIONS:
            recs = by_phase_op.get(("%s-%d" % (phase, base), op))
            if not recs:
                sys.exit("measure: no samples for %s at %d ports"
                         % (key, base))
            entry[key] = summarize(recs)
        entry["ratio_add_p50"] = (entry["cni_add"]["p50_ms"]
                                  / entry["vsctl_add_port"]["p50_ms"])
        entry["ratio_del_p50"] = (entry["cni_del"]["p50_ms"]
                                  / entry["vsctl_del_port"]["p50_ms"])
        entry["ratio_add_veth_p50"] = (entry["cni_add"]["p50_ms"]
                                       / entry["veth_add_port"]["p50_ms"])
        entry["ratio_del_veth_p50"] = (entry["cni_del"]["p50_ms"]
                                       / entry["del_port_veth"]["p50_ms"])
        entry["target_met"] = entry["ratio_add_p50"] <= doc["target_ratio"]
        results.append(entry)
    doc["results"] = results
    doc["target_met"] = all(r["target_met"] for r in results)

    os.makedirs(os.path.dirname(os.path.abspath(json_out)), exist_ok=True)
    with open(json_out, "w") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
        f.write("\n")
    print_table(doc)


def ms(x, width=7):
    return ("%.1f" % x).rjust(width)


def print_table(doc):
    m = doc["machine"]
    print()
    print("cni-ovs benchmark, %s" % doc["date"])
    print("%d CPUs, kernel %s, Open vSwitch %s, commit %s%s"
          % (m["nproc"], m["kernel"], m["ovs_version"], doc["commit"][:12],
             " (uncommitted changes)" if doc["dirty"] else ""))
    print("load average before %s, after %s (other users of the machine "
          "add noise)" % (m["loadavg_before"], m["loadavg_after"]))
    print()
    print("Latency: wall clock of the one process, ms.  CPU: ms per "
          "operation, of the")
    print("process with its children (cpu), of ovsdb-server (db) and of "
          "ovs-vswitchd (vsd).")
    print()
    head = ("%5s  %-24s %4s %7s %7s %7s %7s %7s"
            % ("ports", "operation", "n", "p50", "p99", "cpu", "db", "vsd"))
    print(head)
    print("-" * len(head))
    for r in doc["results"]:
        for _, _, key, label in OPERATIONS:
            s = r[key]
            d = s["daemon_cpu_ms"]
            if "%d" in label:
                label = label % doc["setup"]["concurrent"]
            print("%5d  %-24s %4d %s %s %s %s %s"
                  % (r["base_ports"], label, s["n"], ms(s["p50_ms"]),
                     ms(s["p99_ms"]), ms(s["cpu_ms"]),
                     ms(d.get("ovsdb-server", 0)),
                     ms(d.get("ovs-vswitchd", 0))))
        print()
    print("Target: cni-ovs ADD p50 <= %.1f x ovs-vsctl add-port p50, "
          "at every port count" % doc["target_ratio"])
    for r in doc["results"]:
        print("  %3d ports: ADD %6.1f ms / add-port %6.1f ms = %.2fx  %s"
              % (r["base_ports"], r["cni_add"]["p50_ms"],
                 r["vsctl_add_port"]["p50_ms"], r["ratio_add_p50"],
                 "PASS" if r["target_met"] else "MISS"))
    print()
    print("For reference, against the bare cost with the veth made (and "
          "removed) too:")
    for r in doc["results"]:
        print("  %3d ports: ADD / (veth + add-port) = %.2fx, "
              "DEL / (del-port + veth del) = %.2fx"
              % (r["base_ports"], r["ratio_add_veth_p50"],
                 r["ratio_del_veth_p50"]))
    print()


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "report"):
        sys.stderr.write(__doc__)
        sys.exit(2)
    if sys.argv[1] == "run":
        cmd_run(sys.argv[2:])
    else:
        cmd_report(sys.argv[2:])


if __name__ == "__main__":
    main()
