#!/usr/bin/env python3
"""A tiny DNS stand-in for scripts/cell-sim (BOSH DNS on a cell).

Listens on one address, UDP and TCP port 53 (by default), and answers every
query for class IN type A (or ANY) with one A record holding --answer; any
other type gets an empty NOERROR answer (NODATA).  Nothing is recursive or
cached: it only lets tests see that a container reaches the cell's DNS.

    cellsim-dns.py --listen 169.254.0.2 [--port 53] [--answer 10.0.0.100]
                   [--ttl 5] [--pidfile FILE]

Standard library only.  Exits on SIGTERM/SIGINT.
"""

import argparse
import os
import selectors
import signal
import socket
import struct
import sys

TYPE_A = 1
TYPE_ANY = 255
CLASS_IN = 1


def parse_question(msg):
    """Returns (qname_end, qtype, qclass) of the first question, or None."""
    if len(msg) < 12:
        return None
    qdcount = struct.unpack("!H", msg[4:6])[0]
    if qdcount < 1:
        return None
    pos = 12
    while True:
        if pos >= len(msg):
            return None
        n = msg[pos]
        if n == 0:
            pos += 1
            break
        if n & 0xC0:
            return None            # No compression in questions.
        pos += 1 + n
    if pos + 4 > len(msg):
        return None
    qtype, qclass = struct.unpack("!HH", msg[pos:pos + 4])
    return pos + 4, qtype, qclass


def answer(msg, addr, ttl):
    """Builds the response to query 'msg', or None to ignore it."""
    if len(msg) < 12:
        return None
    qid, flags = struct.unpack("!HH", msg[:4])
    if flags & 0x8000:
        return None                # A response, not a query.
    opcode = (flags >> 11) & 0xF
    rd = flags & 0x0100
    q = parse_question(msg)
    if q is None or opcode != 0:
        # FORMERR (1) or NOTIMP (4), echoing no question.
        rcode = 4 if q is not None else 1
        return struct.pack("!HHHHHH", qid, 0x8000 | rd | rcode, 0, 0, 0, 0)
    end, qtype, qclass = q
    question = msg[12:end]
    answers = b""
    ancount = 0
    if qclass == CLASS_IN and qtype in (TYPE_A, TYPE_ANY):
        # Name: pointer to the question's name at offset 12.
        answers = struct.pack("!HHHIH", 0xC00C, TYPE_A, CLASS_IN, ttl, 4)
        answers += socket.inet_aton(addr)
        ancount = 1
    # QR, AA, RD copied, RA.
    rflags = 0x8000 | 0x0400 | rd | 0x0080
    header = struct.pack("!HHHHHH", qid, rflags, 1, ancount, 0, 0)
    return header + question + answers


class TcpConn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--listen", required=True, help="address to bind")
    p.add_argument("--port", type=int, default=53)
    p.add_argument("--answer", default="10.0.0.100",
                   help="address returned for every A query")
    p.add_argument("--ttl", type=int, default=5)
    p.add_argument("--pidfile", help="write our pid here once listening")
    args = p.parse_args()
    socket.inet_aton(args.answer)          # Validate early.

    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    udp.bind((args.listen, args.port))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((args.listen, args.port))
    tcp.listen(64)
    udp.setblocking(False)
    tcp.setblocking(False)

    def stop(signum, frame):
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    if args.pidfile:
        tmp = args.pidfile + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(tmp, args.pidfile)
    print("cellsim-dns: listening on %s:%d (udp, tcp), A -> %s"
          % (args.listen, args.port, args.answer), flush=True)

    sel = selectors.DefaultSelector()
    sel.register(udp, selectors.EVENT_READ, "udp")
    sel.register(tcp, selectors.EVENT_READ, "listen")
    while True:
        for key, _ in sel.select():
            if key.data == "udp":
                try:
                    msg, peer = udp.recvfrom(65535)
                except BlockingIOError:
                    continue
                resp = answer(msg, args.answer, args.ttl)
                if resp is not None:
                    try:
                        udp.sendto(resp, peer)
                    except OSError:
                        pass
            elif key.data == "listen":
                try:
                    conn, _ = tcp.accept()
                except BlockingIOError:
                    continue
                conn.setblocking(False)
                sel.register(conn, selectors.EVENT_READ, TcpConn(conn))
            else:
                c = key.data
                try:
                    data = c.sock.recv(65535)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(c.sock)
                    c.sock.close()
                    continue
                c.buf += data
                # Length-prefixed messages (RFC 1035 4.2.2).
                while len(c.buf) >= 2:
                    n = struct.unpack("!H", c.buf[:2])[0]
                    if len(c.buf) < 2 + n:
                        break
                    msg, c.buf = c.buf[2:2 + n], c.buf[2 + n:]
                    resp = answer(msg, args.answer, args.ttl)
                    if resp is not None:
                        try:
                            c.sock.setblocking(True)
                            c.sock.sendall(struct.pack("!H", len(resp))
                                           + resp)
                            c.sock.setblocking(False)
                        except OSError:
                            break


if __name__ == "__main__":
    main()
