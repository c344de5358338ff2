#!/usr/bin/env python3
"""tests/integration/np_flow.py: real TCP/UDP flows for test_policy_nft.sh.

  np_flow.py serve SPEC...        SPEC = tcp:PORT or udp:PORT; answers every TCP connection
                                  and every UDP datagram with "pong <port>" (runs until killed)
  np_flow.py probe PROTO IP PORT  exit 0 when "pong PORT" came back within 1.5 s, 1 if not
"""
import selectors
import socket
import sys


def serve(specs):
    sel = selectors.DefaultSelector()
    for spec in specs:
        proto, port = spec.split(":")
        port = int(port)
        if proto == "tcp":
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", port))
            s.listen(64)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("0.0.0.0", port))
        sel.register(s, selectors.EVENT_READ, (proto, port))
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            proto, port = key.data
            s = key.fileobj
            try:
                if proto == "tcp":
                    c, _ = s.accept()
                    c.settimeout(1)
                    try:
                        c.recv(64)
                        c.sendall(b"pong %d" % port)
                    finally:
                        c.close()
                else:
                    _, peer = s.recvfrom(64)
                    s.sendto(b"pong %d" % port, peer)
            except OSError:
                pass


def probe(proto, ip, port):
    port = int(port)
    want = b"pong %d" % port
    try:
        if proto == "tcp":
            with socket.create_connection((ip, port), timeout=1.5) as c:
                c.settimeout(1.5)
                c.sendall(b"ping")
                got = c.recv(64)
        else:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
                c.settimeout(1.5)
                c.sendto(b"ping", (ip, port))
                got, _ = c.recvfrom(64)
    except OSError:
        return 1
    return 0 if got == want else 1


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "serve":
        serve(sys.argv[2:])
    elif len(sys.argv) == 5 and sys.argv[1] == "probe":
        sys.exit(probe(*sys.argv[2:]))
    else:
        sys.exit(__doc__)
