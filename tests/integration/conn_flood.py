#!/usr/bin/env python3
"""tests/integration/conn_flood.py: opens many idle connections to a server and holds them.

  conn_flood.py unix PATH N HOLD_S
  conn_flood.py tcp HOST PORT N HOLD_S

Opens N connections (each connect given 1 s), sends nothing, waits a second, prints one JSON
line: {"opened": connects that succeeded, "closed": of those, how many the server closed
(EOF or reset), "open": how many are still open}; then holds them for HOLD_S seconds and
closes them all."""
import errno
import json
import socket
import sys
import time


def main():
    kind = sys.argv[1]
    if kind == "unix":
        addr, n, hold = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
        family = socket.AF_UNIX
    else:
        addr, n, hold = (sys.argv[2], int(sys.argv[3])), int(sys.argv[4]), float(sys.argv[5])
        family = socket.AF_INET
    socks = []
    for _ in range(n):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(1)
        try:
            s.connect(addr)
            socks.append(s)
        except OSError:
            s.close()
    time.sleep(1)
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError as e:
            if e.errno in (errno.ECONNRESET, errno.EPIPE):
                closed += 1
    print(json.dumps({"opened": len(socks), "closed": closed, "open": len(socks) - closed}),
          flush=True)
    time.sleep(hold)
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
