#!/usr/bin/env python3
"""tests/integration/mcast.py: numbered UDP multicast datagrams, sent and counted.

  mcast.py send GROUP PORT [--iface eth0] [--count 200] [--interval 0.002] [--ttl 1]
      sends "seq 0" .. "seq COUNT-1", one every INTERVAL seconds, then "END COUNT" five
      times (50 ms apart, so one lost END does not stall the receivers).
  mcast.py recv GROUP PORT [--iface eth0] [--timeout 30] [--idle 5] [--linger 0.5]
                           [--ready FILE]
      joins GROUP on IFACE, creates FILE (if given) once joined, counts datagrams by seq
      number and prints one JSON line when it gets END (after LINGER more seconds, so
      late duplicates are counted too), when IDLE seconds pass without a datagram after
      the first one, or when TIMEOUT seconds pass in all:
        {"received": N, "distinct": N, "duplicates": N, "end": bool, "expected": N|null,
         "missing": N|null, "other": N, "reason": "end"|"idle"|"timeout"}
      "duplicates" counts every datagram beyond the first of its seq number; "missing" is
      expected - distinct once END told the count. Exit status 0 (the caller judges).

GROUP may be an IPv4 or an IPv6 group (e.g. 239.1.2.3 or ff15::1:2:3); for IPv6, TTL is the
hop limit and the join sends MLD reports from IFACE.

No dependency beyond the standard library; runs in a lab container (ip netns exec).
"""
import argparse
import json
import os
import socket
import struct
import sys
import time


def ifindex(name):
    try:
        return socket.if_nametoindex(name)
    except OSError as e:
        sys.exit(f"mcast.py: no interface {name}: {e}")


def mreqn(group, idx):
    # struct ip_mreqn { in_addr imr_multiaddr; in_addr imr_address; int imr_ifindex; }
    return socket.inet_aton(group) + socket.inet_aton("0.0.0.0") + struct.pack("@i", idx)


def is_v6(group):
    return ":" in group


def send(a):
    if is_v6(a.group):
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex(a.iface))
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, a.ttl)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
        dst = (a.group, a.port, 0, ifindex(a.iface))
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, mreqn("0.0.0.0", ifindex(a.iface)))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, a.ttl)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
        dst = (a.group, a.port)
    t0 = time.monotonic()
    for n in range(a.count):
        # Paced against the start time, so the rate holds even when a send is slow.
        delay = t0 + n * a.interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        s.sendto(f"seq {n}".encode(), dst)
    time.sleep(0.2)  # let the last datagrams go before the end marker
    for _ in range(5):
        s.sendto(f"END {a.count}".encode(), dst)
        time.sleep(0.05)
    print(json.dumps({"sent": a.count, "seconds": round(time.monotonic() - t0, 3)}), flush=True)


def recv(a):
    if is_v6(a.group):
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.bind((a.group, a.port, 0, ifindex(a.iface)))  # only this group's datagrams
        # struct ipv6_mreq { in6_addr ipv6mr_multiaddr; unsigned int ipv6mr_interface; }
        mreq = socket.inet_pton(socket.AF_INET6, a.group) + struct.pack("@I", ifindex(a.iface))
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.bind((a.group, a.port))  # only this group's datagrams
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn(a.group, ifindex(a.iface)))
    if a.ready:
        with open(a.ready + ".tmp", "w") as f:
            f.write(f"{os.getpid()}\n")
        os.rename(a.ready + ".tmp", a.ready)

    counts = {}
    other = 0
    expected = None
    reason = "timeout"
    start = time.monotonic()
    deadline = start + a.timeout
    last = None  # time of the last datagram
    end_at = None  # when to stop after END
    while True:
        now = time.monotonic()
        limits = [deadline]
        if last is not None:
            limits.append(last + a.idle)
        if end_at is not None:
            limits.append(end_at)
        wait = min(limits) - now
        if wait <= 0:
            if end_at is not None and now >= end_at:
                reason = "end"
            elif now >= deadline:
                reason = "timeout"
            else:
                reason = "idle"
            break
        s.settimeout(wait)
        try:
            data, _ = s.recvfrom(2048)
        except socket.timeout:
            continue
        last = time.monotonic()
        words = data.decode(errors="replace").split()
        if len(words) == 2 and words[0] == "seq" and words[1].isdigit():
            n = int(words[1])
            counts[n] = counts.get(n, 0) + 1
        elif len(words) == 2 and words[0] == "END" and words[1].isdigit():
            if expected is None:
                expected = int(words[1])
                end_at = last + a.linger
        else:
            other += 1
    received = sum(counts.values())
    result = {
        "received": received,
        "distinct": len(counts),
        "duplicates": received - len(counts),
        "end": expected is not None,
        "expected": expected,
        "missing": None if expected is None else expected - len([n for n in counts if n < expected]),
        "other": other,
        "reason": reason,
        "seconds": round(time.monotonic() - start, 3),
    }
    print(json.dumps(result), flush=True)


def main():
    p = argparse.ArgumentParser(description="numbered UDP multicast datagrams, sent and counted")
    sub = p.add_subparsers(dest="mode", required=True)
    for mode in ("send", "recv"):
        q = sub.add_parser(mode)
        q.add_argument("group")
        q.add_argument("port", type=int)
        q.add_argument("--iface", default="eth0")
        if mode == "send":
            q.add_argument("--count", type=int, default=200)
            q.add_argument("--interval", type=float, default=0.002)
            q.add_argument("--ttl", type=int, default=1)
        else:
            q.add_argument("--timeout", type=float, default=30)
            q.add_argument("--idle", type=float, default=5)
            q.add_argument("--linger", type=float, default=0.5)
            q.add_argument("--ready")
    a = p.parse_args()
    send(a) if a.mode == "send" else recv(a)


if __name__ == "__main__":
    main()
