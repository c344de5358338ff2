#!/usr/bin/env python3
"""tests/integration/hs_flood.py: a stranger without the password against a meshd control port.

  hs_flood.py hold HOST PORT N SECONDS
      keeps N connections open, each sending the next byte of a valid handshake start every
      5 s (so that a timeout restarted by every byte never ends them), opening a new one for
      every one the server closes (at most 200 a second), for SECONDS; then prints one JSON
      line:
      {"opened": connects that succeeded, "closed": of those, how many the server closed,
       "open_max": the most open at once}
  hs_flood.py dribble HOST PORT SECONDS
      one connection that sends a valid start of a handshake (VERSION, then a KEY) one byte a
      second; prints one JSON line {"closed_after_s": seconds until the server closed it, or
      null when it was still open after SECONDS}"""
import json
import selectors
import socket
import sys
import time


# VERSION "MESH" 1..1, then a KEY: no password flag, a public key, a name, no nickname; then a
# frame header and its body
HANDSHAKE = (b"MESH\x01\x01" + b"\x00" + bytes(range(1, 33)) + b"\x02\x00\x00\x00\x00\x01" +
             b"\x00" + b"\x00\x00\x00\x40" + b"\x00" * 64)


def connect(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(1)
    s.connect((host, port))
    s.setblocking(False)
    return s


def closed_by_server(s):
    try:
        return s.recv(4096) == b""  # what meshd sends (its VERSION and KEY) is read and dropped
    except BlockingIOError:
        return False
    except OSError:
        return True


def hold(host, port, n, seconds):
    sel = selectors.DefaultSelector()
    opened = closed = open_max = 0
    end = time.monotonic() + seconds
    live = {}  # socket -> [bytes sent, when the next is due]
    while time.monotonic() < end:
        now = time.monotonic()
        for s, st in list(live.items()):
            if now >= st[1]:
                try:
                    s.send(HANDSHAKE[st[0] % len(HANDSHAKE):st[0] % len(HANDSHAKE) + 1])
                except OSError:
                    pass  # seen as closed below
                st[0] += 1
                st[1] = now + 5
        budget = 20  # new connections per 0.1 s round
        while len(live) < n and budget > 0:
            budget -= 1
            try:
                s = connect(host, port)
            except OSError:
                continue
            opened += 1
            live[s] = [0, time.monotonic()]
            sel.register(s, selectors.EVENT_READ)
        open_max = max(open_max, len(live))
        for key, _ in sel.select(timeout=0.1):
            s = key.fileobj
            if closed_by_server(s):
                closed += 1
                sel.unregister(s)
                del live[s]
                s.close()
    for s in live:
        s.close()
    print(json.dumps({"opened": opened, "closed": closed, "open_max": open_max}), flush=True)


def dribble(host, port, seconds):
    data = HANDSHAKE
    s = connect(host, port)
    t0 = time.monotonic()
    i = 0
    while time.monotonic() - t0 < seconds:
        if closed_by_server(s):
            print(json.dumps({"closed_after_s": round(time.monotonic() - t0, 1)}), flush=True)
            return
        try:
            s.send(data[i % len(data):i % len(data) + 1])
        except OSError:
            print(json.dumps({"closed_after_s": round(time.monotonic() - t0, 1)}), flush=True)
            return
        i += 1
        time.sleep(1)
    print(json.dumps({"closed_after_s": None}), flush=True)


def main():
    if sys.argv[1] == "hold":
        hold(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
    elif sys.argv[1] == "dribble":
        dribble(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
