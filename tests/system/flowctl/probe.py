#!/usr/bin/env python3
"""Traffic probes for the system tests on cell-sim, the acceptance suite and
make demo (standard library only).

Every client command prints one line, "OUTCOME SECONDS [DETAIL]", and exits
0 whatever the outcome, so that the test decides what was expected:

    connected / reply / answer   the peer answered
    refused      ECONNREFUSED: a TCP RST, or ICMP port unreachable
    timeout      nothing came back within --timeout
    reset        ECONNRESET
    unreachable  EHOSTUNREACH / ENETUNREACH (ICMP host/net unreachable)
    too-big      EMSGSIZE: a datagram with DF larger than the path MTU
    error:NAME   anything else

Commands:

  tcp HOST PORT [--timeout S] [--bind IP] [--send-bytes N]
      Connects.  Once connected, reads the server's first line (what
      `server` sends: "peer IP PORT") and prints it as DETAIL.  With
      --send-bytes, then sends a line of N bytes and reads its echo
      (full-sized segments both ways): "connected" only if all of it came
      back, with "echoed N" added to DETAIL; "timeout" if it stalled.
  udp HOST PORT [--timeout S] [--bind IP] [--size N] [--df]
      A connected UDP socket sends one datagram (of N bytes with --size;
      with --df, the DF bit set and never fragmented by the sender) and
      waits for the answer (a refusal is the ICMP port unreachable that
      the kernel reports on the socket).
  dns udp|tcp [--server IP] [--name NAME] [--timeout S]
      One A query; DETAIL is the first answer's address.
  server --port P[,P...] [--bind IP] [--udp]
      TCP: to every connection writes "peer IP PORT\\n", then echoes every
      line back, except "proxy HOST PORT", which it answers with the line
      `tcp HOST PORT --timeout 2` would print from here (CF's proxy app).
      UDP: answers every datagram with "peer IP PORT DATA" ("peer IP PORT
      len=N" for a datagram over 64 bytes, so that the answer is small).
      Logs "accept IP PORT" for every TCP connection.
  proxy HOST PORT DEST DPORT [--timeout S]
      Asks the `server` at HOST PORT to connect to DEST DPORT (as CF's
      smoke test asks its proxy app) and prints the server's line: the
      outcome of the connection from there.  If the server itself cannot
      be reached: "error:proxy-OUTCOME".
  stream HOST PORT [--udp] [--interval S] [--duration S] [--timeout S]
      A long TCP connection to `server`: sends a numbered line every
      interval and prints "echo N TIME" for every echo (TIME is the wall
      clock, time.time()), "error NAME TIME" and exits on the first error,
      "eof TIME" when the server closes, "done TIME" after --duration.
      With --udp, one UDP flow (one source port) instead, which goes on
      sending after an error ("error NAME TIME" for each), as a peer that
      has not noticed that its destination went.
  arp IFACE TARGET --spa IP [--timeout S]
      Sends an ARP request for TARGET out of IFACE (raw socket) with the
      interface's MAC and sender address --spa, and waits for the reply
      ("reply" with the answering MAC as DETAIL, or "timeout").
  burst tcp|udp HOST PORT --count N --rate R [--timeout S]
        [--max-pending K]
      Many new connections, paced at R per second.  tcp: N connections,
      each opened (non-blocking, so that a slow one does not hold up the
      next; at most K at a time), then closed with a RST; prints one
      line, "burst SECONDS connected=A
      refused=B timeout=C other=D slow=E rate=F", where slow counts the
      connections that took longer than 0.9 s (a SYN or SYN-ACK lost and
      sent again) and rate the connections made per second, from the
      first start to the last connection's end.  udp: N
      datagrams from one socket, nothing awaited; prints "burst SECONDS
      sent=N rate=F".  The test decides what was expected.
  scan tcp|udp HOST [--ports A-B] [--batch N]
      Knocks once at every port from A to B (1-65535 unless given): tcp,
      a non-blocking connect (one SYN) and a close; udp, one datagram to
      each port from one socket; N ports every 50 ms (4,000 a second by
      default: at 10,000, the userspace datapath lost 3% of them).  Waits
      for nothing; prints "scan SECONDS sent=N".  The test counts what
      arrived, where it arrived.
  appctl SOCKET COMMAND [--hold S]
      Sends COMMAND to an OVS daemon's unixctl SOCKET (JSON-RPC, as
      ovs-appctl does), prints "reply SECONDS RESULT", then keeps the
      connection open for up to --hold seconds, printing "closed SECONDS"
      if the daemon closes it (it exits) or "open SECONDS" if not.  Unlike
      ovs-appctl, which closes at once, this gives the daemon no further
      event on the connection.
"""

import argparse
import errno
import json
import socket
import struct
import sys
import threading
import time


IP_MTU_DISCOVER = 10            # <linux/in.h>
IP_PMTUDISC_DO = 2


def outcome_of(exc):
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, ConnectionResetError):
        return "reset"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timeout"
    if isinstance(exc, OSError) and exc.errno == errno.EMSGSIZE:
        return "too-big"
    if isinstance(exc, OSError) and exc.errno in (errno.EHOSTUNREACH,
                                                  errno.ENETUNREACH):
        return "unreachable"
    return "error:" + type(exc).__name__


def report(outcome, start, detail=""):
    print(("%s %.3f %s" % (outcome, time.monotonic() - start, detail))
          .rstrip(), flush=True)


def readline(sock, timeout):
    sock.settimeout(timeout)
    buf = b""
    while not buf.endswith(b"\n"):
        data = sock.recv(4096)
        if not data:
            break
        buf += data
    return buf.decode(errors="replace").strip()


def cmd_tcp(args):
    start = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if args.bind:
            s.bind((args.bind, 0))
        s.settimeout(args.timeout)
        s.connect((args.host, args.port))
    except OSError as e:
        return report(outcome_of(e), start, str(e))
    try:
        line = readline(s, args.timeout)
    except OSError as e:
        line = "(read: %s)" % outcome_of(e)
    if args.send_bytes:
        try:
            echoed = send_and_read_back(s, args.send_bytes, args.timeout)
        except OSError as e:
            return report(outcome_of(e), start,
                          "%s; the %d-byte line: %s"
                          % (line, args.send_bytes, e))
        line += " echoed %d" % echoed
    report("connected", start, line)
    s.close()


def send_and_read_back(s, n, timeout):
    """Sends a line of N bytes on S and reads its echo; returns N.  Every
    64 kB sent or read may take TIMEOUT (a socket's timeout bounds a whole
    sendall())."""
    s.settimeout(timeout)
    line = b"x" * (n - 1) + b"\n"
    for i in range(0, n, 65536):
        s.sendall(line[i:i + 65536])
    got = 0
    while got < n:
        data = s.recv(65536)
        if not data:
            raise ConnectionResetError("eof after %d bytes" % got)
        got += len(data)
    return got


def cmd_udp(args):
    start = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        if args.bind:
            s.bind((args.bind, 0))
        if args.df:
            s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
        s.settimeout(args.timeout)
        s.connect((args.host, args.port))
        s.send(b"x" * args.size if args.size else b"probe")
        data = s.recv(4096)
    except OSError as e:
        return report(outcome_of(e), start, str(e))
    report("reply", start, data.decode(errors="replace").strip())


def dns_query(name):
    q = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack("!HH", 1, 1)


def cmd_dns(args):
    start = time.monotonic()
    q = dns_query(args.name)
    try:
        if args.proto == "udp":
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(args.timeout)
            s.connect((args.server, 53))
            s.send(q)
            r = s.recv(4096)
        else:
            s = socket.create_connection((args.server, 53),
                                         timeout=args.timeout)
            s.sendall(struct.pack("!H", len(q)) + q)
            hdr = b""
            while len(hdr) < 2:
                d = s.recv(2 - len(hdr))
                if not d:
                    raise ConnectionResetError("eof")
                hdr += d
            n = struct.unpack("!H", hdr)[0]
            r = b""
            while len(r) < n:
                d = s.recv(n - len(r))
                if not d:
                    raise ConnectionResetError("eof")
                r += d
    except OSError as e:
        return report(outcome_of(e), start, str(e))
    qid, flags, _, ancount = struct.unpack("!HHHH", r[:8])
    if qid != 0x4242 or ancount < 1:
        return report("error:bad-answer", start,
                      "id %#x rcode %d answers %d" % (qid, flags & 15,
                                                      ancount))
    report("answer", start, socket.inet_ntoa(r[-4:]))


def serve_tcp_conn(conn, peer):
    try:
        conn.sendall(("peer %s %d\n" % peer).encode())
        buf = b""
        while True:
            data = conn.recv(4096)
            if not data:
                break
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if line.startswith(b"proxy "):
                    line = proxy_line(line.decode(errors="replace"))
                conn.sendall(line + b"\n")
    except OSError:
        pass
    finally:
        conn.close()


def proxy_line(request):
    """The answer to "proxy HOST PORT": tcp's line for HOST PORT."""
    start = time.monotonic()
    try:
        _, host, port = request.split()
        s = socket.create_connection((host, int(port)), timeout=2.0)
    except (OSError, ValueError) as e:
        return ("%s %.3f %s" % (outcome_of(e), time.monotonic() - start,
                                e)).encode()
    try:
        line = readline(s, 2.0)
    except OSError as e:
        line = "(read: %s)" % outcome_of(e)
    s.close()
    return ("connected %.3f %s" % (time.monotonic() - start,
                                   line)).encode()


def cmd_proxy(args):
    start = time.monotonic()
    try:
        s = socket.create_connection((args.host, args.port),
                                     timeout=args.timeout)
        readline(s, args.timeout)
        s.sendall(("proxy %s %d\n" % (args.dest, args.dport)).encode())
        line = readline(s, args.timeout + 2.0)
    except OSError as e:
        return report("error:proxy-" + outcome_of(e), start, str(e))
    s.close()
    print(line if line else "error:proxy-eof %.3f"
          % (time.monotonic() - start), flush=True)


def serve_tcp(bind, port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((bind, port))
    ls.listen(64)
    while True:
        conn, peer = ls.accept()
        print("accept %s %d" % peer, flush=True)
        threading.Thread(target=serve_tcp_conn, args=(conn, peer),
                         daemon=True).start()


def serve_udp(bind, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((bind, port))
    while True:
        data, peer = s.recvfrom(65535)
        print("datagram %s %d" % peer, flush=True)
        if len(data) > 64:
            data = b"len=%d" % len(data)
        s.sendto(("peer %s %d " % peer).encode() + data, peer)


def cmd_server(args):
    threads = []
    for port in args.port.split(","):
        target = serve_udp if args.udp else serve_tcp
        t = threading.Thread(target=target, args=(args.bind, int(port)),
                             daemon=True)
        t.start()
        threads.append(t)
    for t in threads:
        t.join()


def stream_udp(args):
    # One flow (one source port) that goes on sending whatever happens,
    # as a peer that has not noticed: errors are printed, not fatal.
    start = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((args.host, args.port))
    print("connected %.3f port %d" % (time.time(), s.getsockname()[1]),
          flush=True)
    n = 0
    next_send = time.monotonic()
    while time.monotonic() - start < args.duration:
        try:
            if time.monotonic() >= next_send:
                n += 1
                s.send(b"%d\n" % n)
                next_send += args.interval
            s.settimeout(max(0.001, next_send - time.monotonic()))
            data = s.recv(4096)
        except (socket.timeout, TimeoutError):
            continue
        except OSError as e:
            print("error %s %.3f" % (outcome_of(e), time.time()), flush=True)
            continue
        # The server answers "peer IP PORT <what it got>".
        line = data.decode(errors="replace").split()[-1]
        print("echo %s %.3f" % (line, time.time()), flush=True)
    print("done %.3f" % time.time(), flush=True)


def cmd_stream(args):
    if args.udp:
        return stream_udp(args)
    start = time.monotonic()
    try:
        s = socket.create_connection((args.host, args.port),
                                     timeout=args.timeout)
        first = readline(s, args.timeout)
    except OSError as e:
        print("error %s %.3f" % (outcome_of(e), time.time()), flush=True)
        return
    print("connected %.3f %s" % (time.time(), first), flush=True)
    s.settimeout(args.interval)
    n = 0
    buf = b""
    next_send = time.monotonic()
    while time.monotonic() - start < args.duration:
        now = time.monotonic()
        try:
            if now >= next_send:
                n += 1
                s.sendall(b"%d\n" % n)
                next_send += args.interval
            s.settimeout(max(0.001, next_send - time.monotonic()))
            try:
                data = s.recv(4096)
            except (socket.timeout, TimeoutError):
                continue
        except OSError as e:
            print("error %s %.3f" % (outcome_of(e), time.time()), flush=True)
            return
        if not data:
            print("eof %.3f" % time.time(), flush=True)
            return
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            print("echo %s %.3f" % (line.decode(), time.time()), flush=True)
    print("done %.3f" % time.time(), flush=True)


def cmd_arp(args):
    start = time.monotonic()
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(0x0806))
    s.bind((args.iface, 0))
    mac = s.getsockname()[4][:6]
    spa = socket.inet_aton(args.spa)
    tpa = socket.inet_aton(args.target)
    frame = (b"\xff" * 6 + mac + struct.pack("!H", 0x0806)
             + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1)
             + mac + spa + b"\x00" * 6 + tpa)
    s.send(frame)
    deadline = time.monotonic() + args.timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return report("timeout", start)
        s.settimeout(left)
        try:
            data = s.recv(2048)
        except (socket.timeout, TimeoutError):
            return report("timeout", start)
        if (len(data) >= 42 and struct.unpack("!H", data[20:22])[0] == 2
                and data[28:32] == tpa):
            return report("reply", start,
                          ":".join("%02x" % b for b in data[22:28]))


def cmd_appctl(args):
    start = time.monotonic()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(args.timeout)
    try:
        s.connect(args.socket)
        s.sendall(json.dumps({"method": args.command, "params": [],
                              "id": 0}).encode())
        buf = b""
        while True:
            data = s.recv(65536)
            if not data:
                return report("closed", start, "(no reply)")
            buf += data
            try:
                reply = json.loads(buf)
                break
            except ValueError:
                continue
    except OSError as e:
        return report(outcome_of(e), start, str(e))
    report("reply", start, json.dumps(reply.get("result")))
    s.settimeout(args.hold)
    try:
        data = s.recv(65536)
        report("closed" if not data else "data", start)
    except (socket.timeout, TimeoutError):
        report("open", start)
    except OSError:
        report("closed", start)


def burst_tcp(args):
    import selectors
    sel = selectors.DefaultSelector()
    counts = {"connected": 0, "refused": 0, "timeout": 0, "other": 0,
              "slow": 0}
    pending = {}
    start = time.monotonic()
    interval = 1.0 / args.rate
    started = 0

    last_done = [start]

    def finish(sock, outcome):
        t0 = pending.pop(sock)
        last_done[0] = time.monotonic()
        sel.unregister(sock)
        sock.close()
        counts[outcome if outcome in counts else "other"] += 1
        if outcome == "connected" and time.monotonic() - t0 > 0.9:
            counts["slow"] += 1

    while started < args.count or pending:
        now = time.monotonic()
        while (started < args.count and now >= start + started * interval
               and len(pending) < args.max_pending):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
            try:
                s.connect((args.host, args.port))
            except BlockingIOError:
                pass
            except OSError as e:
                counts[outcome_of(e) if outcome_of(e) in counts
                       else "other"] += 1
                s.close()
                started += 1
                continue
            pending[s] = now
            sel.register(s, selectors.EVENT_WRITE)
            started += 1
        next_start = (start + started * interval
                      if started < args.count
                      and len(pending) < args.max_pending else now + 0.05)
        for key, _ in sel.select(max(0.0, min(next_start - now, 0.05))):
            err = key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err == 0:
                finish(key.fileobj, "connected")
            elif err == errno.ECONNREFUSED:
                finish(key.fileobj, "refused")
            else:
                finish(key.fileobj, "other")
        now = time.monotonic()
        for s, t0 in list(pending.items()):
            if now - t0 > args.timeout:
                finish(s, "timeout")
    elapsed = max(last_done[0] - start, 1e-6)
    report("burst", start, " ".join("%s=%d" % kv for kv in counts.items())
           + " rate=%.1f" % (counts["connected"] / elapsed))


def burst_udp(args):
    start = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    interval = 1.0 / args.rate
    for i in range(args.count):
        delay = start + i * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        try:
            s.sendto(b"burst %d" % i, (args.host, args.port))
        except OSError:
            pass                # A refusal reported on the socket.
    report("burst", start, "sent=%d rate=%.1f"
           % (args.count, args.count / (time.monotonic() - start)))


def cmd_scan(args):
    start = time.monotonic()
    first, last = (int(p) for p in args.ports.split("-"))
    sent = 0
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for base in range(first, last + 1, args.batch):
        for port in range(base, min(base + args.batch, last + 1)):
            if args.proto == "udp":
                try:
                    u.sendto(b"scan", (args.host, port))
                    sent += 1
                except OSError:
                    pass        # An earlier port's refusal, reported here.
                continue
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.setblocking(False)
            if c.connect_ex((args.host, port)) in (0, errno.EINPROGRESS,
                                                   errno.ECONNREFUSED):
                sent += 1
            c.close()
        time.sleep(0.05)
    u.close()
    report("scan", start, "sent=%d" % sent)


def cmd_burst(args):
    (burst_tcp if args.proto == "tcp" else burst_udp)(args)


def main():
    p = argparse.ArgumentParser(description="traffic probes")
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("tcp", "udp"):
        c = sub.add_parser(name)
        c.add_argument("host")
        c.add_argument("port", type=int)
        c.add_argument("--timeout", type=float, default=2.0)
        c.add_argument("--bind")
        if name == "tcp":
            c.add_argument("--send-bytes", type=int, default=0)
        else:
            c.add_argument("--size", type=int, default=0)
            c.add_argument("--df", action="store_true")
    c = sub.add_parser("dns")
    c.add_argument("proto", choices=("udp", "tcp"))
    c.add_argument("--server", default="169.254.0.2")
    c.add_argument("--name", default="db.service.internal")
    c.add_argument("--timeout", type=float, default=2.0)
    c = sub.add_parser("server")
    c.add_argument("--port", required=True)
    c.add_argument("--bind", default="0.0.0.0")
    c.add_argument("--udp", action="store_true")
    c = sub.add_parser("proxy")
    c.add_argument("host")
    c.add_argument("port", type=int)
    c.add_argument("dest")
    c.add_argument("dport", type=int)
    c.add_argument("--timeout", type=float, default=2.0)
    c = sub.add_parser("stream")
    c.add_argument("host")
    c.add_argument("port", type=int)
    c.add_argument("--udp", action="store_true")
    c.add_argument("--interval", type=float, default=0.1)
    c.add_argument("--duration", type=float, default=30.0)
    c.add_argument("--timeout", type=float, default=2.0)
    c = sub.add_parser("arp")
    c.add_argument("iface")
    c.add_argument("target")
    c.add_argument("--spa", required=True)
    c.add_argument("--timeout", type=float, default=2.0)
    c = sub.add_parser("burst")
    c.add_argument("proto", choices=("tcp", "udp"))
    c.add_argument("host")
    c.add_argument("port", type=int)
    c.add_argument("--count", type=int, required=True)
    c.add_argument("--rate", type=float, required=True)
    c.add_argument("--timeout", type=float, default=3.0)
    c.add_argument("--max-pending", type=int, default=1000000)
    c = sub.add_parser("scan")
    c.add_argument("proto", choices=("tcp", "udp"))
    c.add_argument("host")
    c.add_argument("--ports", default="1-65535")
    c.add_argument("--batch", type=int, default=200)
    c = sub.add_parser("appctl")
    c.add_argument("socket")
    c.add_argument("command")
    c.add_argument("--hold", type=float, default=3.0)
    c.add_argument("--timeout", type=float, default=2.0)
    args = p.parse_args()
    {"tcp": cmd_tcp, "udp": cmd_udp, "dns": cmd_dns, "server": cmd_server,
     "stream": cmd_stream, "proxy": cmd_proxy, "arp": cmd_arp,
     "burst": cmd_burst, "scan": cmd_scan, "appctl": cmd_appctl}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
