#!/usr/bin/env python3
"""tests/integration/udp_burst.py: bursts of UDP datagrams whose every byte can be checked.

  udp_burst.py recv PORT SECONDS     prints one JSON line: datagrams received, bad ones, and
                                     the (flow, sequence) keys seen, after SECONDS of quiet
  udp_burst.py send HOST PORT        sends the bursts below, from two source ports

Each datagram: flow u8 | sequence u32 BE | length u16 BE | filler derived from all three.
Bursts mix sizes (1 to 1372 bytes of payload), a shorter last datagram, and two interleaved
flows, the cases where the sleeve's receive path joins or must not join datagrams."""
import json
import socket
import struct
import sys
import time

HDR = 7


def payload(flow, seq, size):
    head = struct.pack(">BIH", flow, seq, size)
    body = bytes((flow * 31 + seq * 7 + i) & 0xFF for i in range(max(size - HDR, 0)))
    return (head + body)[:size] if size >= HDR else head[:size]


def bursts():
    seq = 0
    for size in (1, 7, 64, 200, 1000, 1372):
        for _ in range(10):
            burst = []
            for i in range(40):
                n = size if i < 39 else max(size // 2, 1)
                burst.append((0, seq, n))
                seq += 1
            yield burst
    # two flows interleaved, same size
    for _ in range(10):
        burst = []
        for i in range(40):
            burst.append((i % 2, seq, 300))
            seq += 1
        yield burst


def send(host, port):
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
    total = 0
    for burst in bursts():
        for flow, seq, size in burst:
            socks[flow].sendto(payload(flow, seq, size), (host, port))
            total += 1
        time.sleep(0.01)
    print(json.dumps({"sent": total}))


def recv(port, quiet):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("0.0.0.0", port))
    s.settimeout(quiet)
    got, bad, seen = 0, 0, set()
    print(json.dumps({"listening": port}), flush=True)
    try:
        while True:
            data = s.recv(65535)
            got += 1
            if len(data) < HDR:
                # too short for its own header: a cut-off header of flow 0, sequence < 65536
                if data != bytes(len(data)):
                    bad += 1
                continue
            flow, seq, size = struct.unpack(">BIH", data[:HDR])
            if size != len(data) or data != payload(flow, seq, size):
                bad += 1
                continue
            seen.add((flow, seq))
    except socket.timeout:
        pass
    expected = {(f, q) for b in bursts() for f, q, n in b if n >= HDR}
    print(json.dumps({"received": got, "bad": bad, "checked": len(seen & expected),
                      "checkable": len(expected), "unexpected": len(seen - expected)}))


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]))
    else:
        recv(int(sys.argv[2]), float(sys.argv[3]))
