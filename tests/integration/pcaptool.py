#!/usr/bin/env python3
"""tests/integration/pcaptool.py: the little packet work the integration tests need, with
the standard library only (no scapy): parse a classic pcap file by hand, count a marker in
it, extract UDP payloads, and resend payloads over UDP.

  pcaptool.py count PCAP STRING          occurrences of STRING in all captured bytes
  pcaptool.py udp PCAP [--src IP] [--dst IP] [--dport N]
                                         one line per matching IPv4/UDP datagram:
                                         "src:sport dst:dport hexpayload"
  pcaptool.py send HOST PORT [--bind IP]  reads lines from `udp` on stdin, sends each payload
                                         to HOST:PORT from a free port; prints how many
  pcaptool.py families PCAP              frames per network protocol, one line each:
                                         "ipv4 N", "ipv6 N", "arp N", "other N"
  pcaptool.py udp6 PCAP [--dport N]      the number of IPv6/UDP datagrams (to port N)
"""
import argparse
import socket
import struct
import sys

ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
ETH_P_ARP = 0x0806
ETH_P_8021Q = 0x8100
LINKTYPE_ETHERNET = 1


def read_pcap(path):
    """Yields (linktype, frame bytes) for each record of a classic pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        sys.exit(f"pcaptool: {path}: not a classic pcap file (pcapng is not supported)")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _sec, _frac, incl_len, _orig_len = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        frame = data[off:off + incl_len]
        off += incl_len
        yield linktype, frame


def udp_datagrams(path):
    """Yields (src, sport, dst, dport, payload) for every IPv4/UDP frame (Ethernet links)."""
    for linktype, frame in read_pcap(path):
        if linktype != LINKTYPE_ETHERNET or len(frame) < 14:
            continue
        ethertype = struct.unpack("!H", frame[12:14])[0]
        l3 = 14
        if ethertype == ETH_P_8021Q and len(frame) >= 18:
            ethertype = struct.unpack("!H", frame[16:18])[0]
            l3 = 18
        if ethertype != ETH_P_IP or len(frame) < l3 + 20:
            continue
        ihl = (frame[l3] & 0x0F) * 4
        total_len = struct.unpack("!H", frame[l3 + 2:l3 + 4])[0]
        frag = struct.unpack("!H", frame[l3 + 6:l3 + 8])[0]
        proto = frame[l3 + 9]
        if proto != 17 or ihl < 20 or (frag & 0x1FFF) != 0 or (frag & 0x2000):
            continue  # not UDP, or a fragment
        src = socket.inet_ntoa(frame[l3 + 12:l3 + 16])
        dst = socket.inet_ntoa(frame[l3 + 16:l3 + 20])
        l4 = l3 + ihl
        if len(frame) < l4 + 8:
            continue
        sport, dport, ulen = struct.unpack("!HHH", frame[l4:l4 + 6])
        end = min(l3 + total_len, l4 + ulen, len(frame))
        yield src, sport, dst, dport, frame[l4 + 8:end]


def ethertype_of(frame):
    """(ethertype, offset of the network header) of an Ethernet frame, VLAN tag skipped."""
    if len(frame) < 14:
        return None, 0
    ethertype = struct.unpack("!H", frame[12:14])[0]
    if ethertype == ETH_P_8021Q and len(frame) >= 18:
        return struct.unpack("!H", frame[16:18])[0], 18
    return ethertype, 14


def cmd_families(args):
    n = {"ipv4": 0, "ipv6": 0, "arp": 0, "other": 0}
    names = {ETH_P_IP: "ipv4", ETH_P_IPV6: "ipv6", ETH_P_ARP: "arp"}
    for linktype, frame in read_pcap(args.pcap):
        et = ethertype_of(frame)[0] if linktype == LINKTYPE_ETHERNET else None
        n[names.get(et, "other")] += 1
    for k, v in n.items():
        print(k, v)


def cmd_udp6(args):
    """IPv6/UDP datagrams whose first next header is UDP (what the sleeve sends)."""
    count = 0
    for linktype, frame in read_pcap(args.pcap):
        if linktype != LINKTYPE_ETHERNET:
            continue
        et, l3 = ethertype_of(frame)
        if et != ETH_P_IPV6 or len(frame) < l3 + 48 or frame[l3 + 6] != 17:
            continue
        dport = struct.unpack("!H", frame[l3 + 42:l3 + 44])[0]
        if args.dport is None or dport == args.dport:
            count += 1
    print(count)


def cmd_count(args):
    needle = args.string.encode()
    print(sum(frame.count(needle) for _lt, frame in read_pcap(args.pcap)))


def cmd_udp(args):
    for src, sport, dst, dport, payload in udp_datagrams(args.pcap):
        if args.src and src != args.src:
            continue
        if args.dst and dst != args.dst:
            continue
        if args.dport is not None and dport != args.dport:
            continue
        print(f"{src}:{sport} {dst}:{dport} {payload.hex()}")


def cmd_send(args):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((args.bind, 0))
    sent = 0
    for line in sys.stdin:
        fields = line.split()
        if not fields:
            continue
        sock.sendto(bytes.fromhex(fields[-1]), (args.host, args.port))
        sent += 1
    print(sent)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("count")
    c.add_argument("pcap")
    c.add_argument("string")
    c.set_defaults(func=cmd_count)
    u = sub.add_parser("udp")
    u.add_argument("pcap")
    u.add_argument("--src")
    u.add_argument("--dst")
    u.add_argument("--dport", type=int)
    u.set_defaults(func=cmd_udp)
    s = sub.add_parser("send")
    s.add_argument("host")
    s.add_argument("port", type=int)
    s.add_argument("--bind", default="0.0.0.0")
    s.set_defaults(func=cmd_send)
    f = sub.add_parser("families")
    f.add_argument("pcap")
    f.set_defaults(func=cmd_families)
    u6 = sub.add_parser("udp6")
    u6.add_argument("pcap")
    u6.add_argument("--dport", type=int)
    u6.set_defaults(func=cmd_udp6)
    args = p.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
