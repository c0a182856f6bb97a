#!/usr/bin/env python3
"""Geneve helpers for tests/system/test-overlay.sh (standard library only).

  send HOST --inner-src IP --inner-dst IP --dport PORT [--tag N]
       [--class C] [--type T] [--payload TEXT]
      Sends one Geneve packet (UDP to HOST:6081) whose inner frame is an
      IPv4/UDP datagram from --inner-src to --inner-dst:--dport carrying
      --payload, with one option (class C, type T, 4 bytes: N) unless --tag
      is omitted.  This is what a forger would send: the receiving cell must
      drop it unless it comes from a known cell.

  options PCAP
      Reads a pcap file (tcpdump -w) of underlay traffic and prints, for
      every Geneve packet, "INNER_SRC INNER_DST CLASS TYPE VALUE" (class and
      type in hex, VALUE the option's data as hex), one line per option;
      "INNER_SRC INNER_DST - - -" for a packet without options.
"""

import argparse
import socket
import struct
import sys

GENEVE_PORT = 6081


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def inner_frame(src, dst, dport, payload):
    udp_len = 8 + len(payload)
    udp = struct.pack("!HHHH", 40000, dport, udp_len, 0) + payload
    total = 20 + udp_len
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 1, 0x4000, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    eth = (bytes.fromhex("eeeeeeeeeeee") + bytes.fromhex("aaaaa9fe0001")
           + struct.pack("!H", 0x0800))
    return eth + ip + udp


def geneve(inner, tag, opt_class, opt_type):
    opts = b""
    if tag is not None:
        opts = struct.pack("!HBBI", opt_class, opt_type, 1, tag)
    # Version 0, option length in 4-byte words; protocol Ethernet; VNI 0.
    hdr = struct.pack("!BBHI", len(opts) // 4, 0, 0x6558, 0)
    return hdr + opts + inner


def cmd_send(args):
    inner = inner_frame(args.inner_src, args.inner_dst, args.dport,
                        args.payload.encode())
    pkt = geneve(inner, args.tag, args.opt_class, args.opt_type)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(pkt, (args.host, GENEVE_PORT))
    print("sent %d bytes" % len(pkt))


def pcap_packets(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        yield linktype, data[off:off + incl]
        off += incl


def cmd_options(args):
    for linktype, frame in pcap_packets(args.pcap):
        if linktype == 1:           # Ethernet
            if len(frame) < 14 or frame[12:14] != b"\x08\x00":
                continue
            ip = frame[14:]
        elif linktype == 113:       # Linux cooked (tcpdump -i any)
            if frame[14:16] != b"\x08\x00":
                continue
            ip = frame[16:]
        else:
            continue
        ihl = (ip[0] & 0xf) * 4
        if ip[9] != 17:
            continue
        udp = ip[ihl:]
        if struct.unpack("!H", udp[2:4])[0] != GENEVE_PORT:
            continue
        gen = udp[8:]
        opt_len = (gen[0] & 0x3f) * 4
        opts = gen[8:8 + opt_len]
        inner = gen[8 + opt_len:]
        if len(inner) < 34 or inner[12:14] != b"\x08\x00":
            continue
        iip = inner[14:]
        src = socket.inet_ntoa(iip[12:16])
        dst = socket.inet_ntoa(iip[16:20])
        if not opts:
            print("%s %s - - -" % (src, dst))
        while len(opts) >= 4:
            cls, typ, ln = struct.unpack("!HBB", opts[:4])
            ln = (ln & 0x1f) * 4
            value = opts[4:4 + ln]
            print("%s %s %#06x %#04x %s" % (src, dst, cls, typ, value.hex()))
            opts = opts[4 + ln:]


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("host")
    s.add_argument("--inner-src", required=True)
    s.add_argument("--inner-dst", required=True)
    s.add_argument("--dport", type=int, required=True)
    s.add_argument("--tag", type=lambda v: int(v, 0))
    s.add_argument("--class", dest="opt_class", type=lambda v: int(v, 0),
                   default=0xfff0)
    s.add_argument("--type", dest="opt_type", type=lambda v: int(v, 0),
                   default=0x80)
    s.add_argument("--payload", default="forged")
    o = sub.add_parser("options")
    o.add_argument("pcap")
    args = p.parse_args()
    {"send": cmd_send, "options": cmd_options}[args.cmd](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
