#!/usr/bin/env python3
"""Probes for bench/policy-convergence (standard library only).

  policy-probe.py run --sim CELL-SIM --name NAME --admin SOCK
                      --server-log LOG --src A --dst B --host IP --port P
                      --interval I --samples N [--seed S] --out FILE
      Runs inside A's container namespace (`cell-sim exec A ...`).  N times:
      a random wait of 0.5 to 1.5 interval, `cell-sim policy add A B --port
      P`, a sample; a random wait, `cell-sim policy remove ...`, a sample.
      Appends one JSON line per sample to FILE.

  policy-probe.py summary FILE [--target-p50 S --target-p99 S
                               --target-interval I]
      Percentiles per (interval, direction) of the samples in FILE, as
      JSON on stdout.

A sample.  From PRE seconds before the change until it is over, the
prober starts a new TCP connection attempt to HOST:PORT every PERIOD
seconds, whatever the earlier ones are doing (non-blocking sockets, so a
dropped SYN does not delay the next attempt), and records for each its
start (time.time(), CLOCK_REALTIME) and outcome: "connected", "refused"
(a RST: the source cell rejects c2c traffic of an untagged app at once),
"timeout" (no answer within ATTEMPT_TIMEOUT: across cells a destination
that does not admit the source drops the SYN) or an errno name.

The change's time, t_change, is the server's own: the policy server
stamps every change (policies_last_updated, Unix nanoseconds, the same
host clock) under its lock, before it writes its state file and answers,
so t_change is read back from the admin API after the command returned,
and the time cell-sim's command takes (bash, curl) is not counted.

Converged: the new outcome is "connected" after an add and anything else
after a remove.  The sample's convergence time is
    t_conv - t_change,
t_conv being the start of the first attempt of the final run of attempts
with the new outcome: that attempt and every later one, up to the end of
the sample, had it.  The sample ends once the policy server's command has
returned, at least interval + SETTLE seconds have passed since, and the
latest finished attempt had the new outcome (both cells have polled the
server by then); the attempts still in flight are waited for.  Attempts
with the new outcome before t_conv are counted as flaps (none expected).
The resolution is PERIOD: t_conv is up to PERIOD after the moment the
flows changed.

Where the time went: the outcome next to t_conv names the cell that
decided the sample (an add is allowed once both cells have the policy, a
removal refuses once either has dropped it): "refused" is the source cell
(an app in no policy is refused there at once), "timeout" the destination
cell (it drops what it does not admit).  fetch_s is from t_change to that
cell's first policies request after the change being answered (from the
policy server's log, --server-log): the wait for its poll plus the two
requests; after_fetch_s = convergence_s - fetch_s is flowctl's work
(parse, recompute, install) and the probe's resolution.
"""

import argparse
import datetime
import errno
import json
import math
import random
import selectors
import socket
import subprocess
import sys
import time

PERIOD = 0.02           # s between connection attempts
ATTEMPT_TIMEOUT = 0.25  # s an attempt waits for the SYN-ACK
PRE = 0.3               # s of probing before the change
SETTLE = 1.0            # s past one interval before a sample may end


def die(msg):
    print("policy-probe: %s" % msg, file=sys.stderr, flush=True)
    sys.exit(1)


class Prober:
    """TCP connection attempts to (host, port), one every PERIOD."""

    def __init__(self, host, port):
        self.addr = (host, port)
        self.sel = selectors.DefaultSelector()
        self.attempts = []      # [t_start, outcome or None]
        self.inflight = {}      # socket -> (attempt, deadline (monotonic))
        self.next_tick = None

    def start_one(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        a = [time.time(), None]
        err = s.connect_ex(self.addr)
        self.attempts.append(a)
        if err == 0:
            a[1] = "connected"
            s.close()
        elif err == errno.EINPROGRESS:
            self.inflight[s] = (a, time.monotonic() + ATTEMPT_TIMEOUT)
            self.sel.register(s, selectors.EVENT_WRITE)
        else:
            a[1] = outcome_of(err)
            s.close()

    def finish(self, s, outcome):
        a, _ = self.inflight.pop(s)
        a[1] = outcome
        self.sel.unregister(s)
        s.close()

    def step(self, probing):
        """Starts the attempt that is due (if 'probing'), then waits up to
        the next tick for answers and expires the attempts that ran out."""
        now = time.monotonic()
        if probing:
            if self.next_tick is None or now - self.next_tick > PERIOD:
                self.next_tick = now
            if now >= self.next_tick:
                self.start_one()
                self.next_tick += PERIOD
            wait = self.next_tick - time.monotonic()
        else:
            self.next_tick = None
            wait = 0.01
        if self.inflight:
            first = min(d for _, d in self.inflight.values())
            wait = min(wait, first - time.monotonic())
        for key, _ in self.sel.select(max(0.0, wait)):
            err = key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            self.finish(key.fileobj, outcome_of(err))
        now = time.monotonic()
        for s, (_, deadline) in list(self.inflight.items()):
            if now >= deadline:
                self.finish(s, "timeout")

    def drain(self):
        while self.inflight:
            self.step(False)


def outcome_of(err):
    if err == 0:
        return "connected"
    if err == errno.ECONNREFUSED:
        return "refused"
    if err in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "unreachable"
    return "error:" + errno.errorcode.get(err, str(err))


def admin_get(sock_path, path):
    """GET PATH from the policy server's admin API (HTTP on a unix socket;
    the socket is a file, reachable from any network namespace)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sock_path)
    s.sendall(("GET %s HTTP/1.0\r\nHost: policy-server-sim\r\n"
               "Connection: close\r\n\r\n" % path).encode())
    buf = b""
    while True:
        data = s.recv(65536)
        if not data:
            break
        buf += data
    s.close()
    head, _, body = buf.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0]
    if b" 200 " not in status + b" ":
        die("admin API %s: %s" % (path, status.decode(errors="replace")))
    return json.loads(body)


def fetch_times(path, t_change):
    """When each cell's first policies request after t_change was answered
    (the policy server's log: a line per request, written once answered,
    "TIME IP:PORT METHOD PATH ENDPOINT STATUS SIZE DURATION"), by the
    cell's address."""
    first = {}
    with open(path) as f:
        for line in f:
            w = line.split()
            if len(w) < 6 or w[4] != "policies" or w[5] != "200":
                continue
            t = datetime.datetime.strptime(
                w[0], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                    tzinfo=datetime.timezone.utc).timestamp()
            ip = w[1].rsplit(":", 1)[0]
            # The log has millisecond times, truncated.
            if t + 0.001 >= t_change and ip not in first:
                first[ip] = t
    return first


def sample(args, prober, direction):
    want_ok = direction == "add"

    def is_new(a):
        return (a[1] == "connected") == want_ok

    prober.attempts = []
    start = time.monotonic()
    while time.monotonic() - start < PRE:
        prober.step(True)
    cmd = [args.sim, "--name", args.name, "policy", direction, args.src,
           args.dst, "--port", str(args.port)]
    t_invoke = time.time()
    child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
    t_return = None
    hard = t_invoke + 3 * args.interval + 15
    while True:
        prober.step(True)
        now = time.time()
        if t_return is None and child.poll() is not None:
            t_return = time.time()
            out = child.stdout.read().decode(errors="replace").strip()
            if child.returncode != 0:
                die("%s failed (exit %d): %s" % (" ".join(cmd[3:]),
                                                  child.returncode, out))
        if now > hard:
            seen = sorted({a[1] for a in prober.attempts if a[1]})
            die("policy %s: no convergence %.1f s after the command "
                "(outcomes seen: %s)" % (direction, now - t_invoke,
                                         ", ".join(seen)))
        if t_return is None or now < t_return + args.interval + SETTLE:
            continue
        done = [a for a in prober.attempts if a[1] is not None]
        if done and is_new(done[-1]):
            prober.drain()
            if is_new(prober.attempts[-1]):
                break
    t_change = admin_get(args.admin, "/state")["last_updated"] / 1e9
    atts = prober.attempts
    j = len(atts)
    while j > 0 and is_new(atts[j - 1]):
        j -= 1
    if atts[j][0] < t_change:
        die("policy %s: the new outcome (%s) from %.3f s before the "
            "change on: was the previous change not yet in force?"
            % (direction, atts[j][1], t_change - atts[j][0]))
    kinds = {}
    for a in atts:
        kinds[a[1]] = kinds.get(a[1], 0) + 1
    # The cell that converged last (add) or first (remove) shows in the
    # outcome next to t_conv: refused at the source cell, or dropped
    # (timeout) at the destination cell.
    edge = atts[j - 1][1] if want_ok else atts[j][1]
    # That cell's fetch of the policies: the wait for its poll (and the
    # two requests), the rest being flowctl's work and the probe's.
    cell = args.src_cell_ip if edge == "refused" else args.dst_cell_ip
    fetched = fetch_times(args.server_log, t_change)
    if cell not in fetched:
        die("policy %s: no policies request from %s after the change in %s"
            % (direction, cell, args.server_log))
    return {"interval": args.interval, "direction": direction,
            "fetch_s": round(fetched[cell] - t_change, 4),
            "after_fetch_s": round(atts[j][0] - fetched[cell], 4),
            "fetch_s_by_cell": {ip: round(t - t_change, 4)
                                for ip, t in sorted(fetched.items())},
            "convergence_s": round(atts[j][0] - t_change, 4),
            "t_change": round(t_change, 4),
            "command_s": round(t_return - t_invoke, 4),
            "change_after_invoke_s": round(t_change - t_invoke, 4),
            "attempts": len(atts), "outcomes": kinds,
            "flaps": sum(1 for a in atts[:j] if is_new(a)),
            "edge_outcome": edge}


def cmd_run(args):
    rnd = random.Random(args.seed)
    prober = Prober(args.host, args.port)
    with open(args.out, "a") as out:
        for k in range(args.samples):
            for direction in ("add", "remove"):
                time.sleep(rnd.uniform(0.5, 1.5) * args.interval)
                r = sample(args, prober, direction)
                r["sample"] = k
                out.write(json.dumps(r, sort_keys=True) + "\n")
                out.flush()
                print("  %2d %-6s %.3f s  (%d attempts, edge %s, fetched "
                      "%.3f s%s)"
                      % (k, direction, r["convergence_s"], r["attempts"],
                         r["edge_outcome"], r["fetch_s"],
                         ", %d flaps" % r["flaps"] if r["flaps"] else ""),
                      file=sys.stderr, flush=True)


def rank(xs, p):
    """Nearest-rank percentile of sorted xs: the smallest sample with at
    least p % of the samples at or below it."""
    return xs[max(0, math.ceil(p / 100.0 * len(xs)) - 1)]


def cmd_summary(args):
    groups = {}
    with open(args.file) as f:
        for line in f:
            r = json.loads(line)
            groups.setdefault((r["interval"], r["direction"]), []).append(r)
    out = []
    for (interval, direction), rs in sorted(groups.items()):
        xs = sorted(r["convergence_s"] for r in rs)
        edges = {}
        for r in rs:
            edges[r["edge_outcome"]] = edges.get(r["edge_outcome"], 0) + 1
        s = {"interval_s": interval, "direction": direction, "n": len(xs),
             "p50_s": rank(xs, 50), "p90_s": rank(xs, 90),
             "p99_s": rank(xs, 99), "max_s": xs[-1], "min_s": xs[0],
             "mean_s": round(sum(xs) / len(xs), 4),
             "command_s_mean": round(sum(r["command_s"] for r in rs)
                                     / len(rs), 4),
             "flaps": sum(r["flaps"] for r in rs),
             "fetch_s_mean": round(sum(r["fetch_s"] for r in rs)
                                   / len(rs), 4),
             "after_fetch_s_p50": rank(sorted(r["after_fetch_s"]
                                              for r in rs), 50),
             "after_fetch_s_max": max(r["after_fetch_s"] for r in rs),
             "fetch_s_mean_any_cell": round(
                 sum(x for r in rs for x in r["fetch_s_by_cell"].values())
                 / sum(len(r["fetch_s_by_cell"]) for r in rs), 4),
             "edge_outcomes": edges, "samples_s": [r["convergence_s"]
                                                   for r in rs]}
        if interval == args.target_interval:
            s["target"] = {"p50_s": args.target_p50,
                           "p99_s": args.target_p99}
            s["target_met"] = (s["p50_s"] <= args.target_p50
                               and s["p99_s"] <= args.target_p99)
        out.append(s)
    json.dump(out, sys.stdout, indent=1)
    print()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("run")
    for name in ("sim", "name", "admin", "server-log", "src", "dst",
                 "host", "out"):
        c.add_argument("--" + name, required=True)
    c.add_argument("--src-cell-ip", default="10.0.0.11")
    c.add_argument("--dst-cell-ip", default="10.0.0.12")
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--interval", type=float, required=True)
    c.add_argument("--samples", type=int, required=True)
    c.add_argument("--seed", type=int)
    c = sub.add_parser("summary")
    c.add_argument("file")
    c.add_argument("--target-interval", type=float, default=1.0)
    c.add_argument("--target-p50", type=float, default=0.8)
    c.add_argument("--target-p99", type=float, default=1.3)
    args = p.parse_args()
    {"run": cmd_run, "summary": cmd_summary}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
