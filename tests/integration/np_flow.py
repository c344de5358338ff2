#!/usr/bin/env python3
"""tests/integration/np_flow.py: real TCP/UDP flows for test_policy_nft.sh.

  np_flow.py serve SPEC...        SPEC = tcp:PORT or udp:PORT; answers every TCP connection
                                  and every UDP datagram with "pong <port>" (runs until killed)
                                  tcpstream:PORT answers every message of a connection, which
                                  stays open
  np_flow.py probe PROTO IP PORT  (IP: IPv4 or IPv6, fe80::x%eth0 too) exit 0 when "pong PORT" came back within 1.5 s, 1 if not
  np_flow.py stream IP PORT SECS  one TCP connection to a tcpstream port, a message every
                                  0.2 s for SECS seconds; exit 0 when every one was answered
"""
import threading
import time
import selectors
import socket
import sys


def serve(specs):
    sel = selectors.DefaultSelector()
    for spec in specs:
        proto, port = spec.split(":")
        port = int(port)
        # one dual-stack socket each: IPv4 and IPv6 (a link-local one too)
        if proto in ("tcp", "tcpstream"):
            s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("::", port))
            s.listen(64)
        else:
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.bind(("::", port))
        sel.register(s, selectors.EVENT_READ, (proto, port))
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            proto, port = key.data
            s = key.fileobj
            try:
                if proto == "tcpstream":
                    c, _ = s.accept()
                    threading.Thread(target=echo_loop, args=(c, port), daemon=True).start()
                elif proto == "tcp":
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


def echo_loop(c, port):
    with c:
        while True:
            try:
                if not c.recv(64):
                    return
                c.sendall(b"pong %d" % port)
            except OSError:
                return


def stream(ip, port, secs):
    port = int(port)
    end = time.monotonic() + float(secs)
    try:
        with socket.create_connection((ip, port), timeout=1.5) as c:
            c.settimeout(1.5)
            n = 0
            while time.monotonic() < end:
                c.sendall(b"ping")
                if c.recv(64) != b"pong %d" % port:
                    return 1
                if n == 0:
                    print("established", flush=True)
                n += 1
                time.sleep(0.2)
    except OSError as e:
        print("stream: %s" % e, file=sys.stderr)
        return 1
    print("stream: %d answers" % n)
    return 0


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
            ai = socket.getaddrinfo(ip, port, type=socket.SOCK_DGRAM)[0]
            with socket.socket(ai[0], socket.SOCK_DGRAM) as c:
                c.settimeout(1.5)
                c.sendto(b"ping", ai[4])
                got, _ = c.recvfrom(64)
    except OSError:
        return 1
    return 0 if got == want else 1


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "serve":
        serve(sys.argv[2:])
    elif len(sys.argv) == 5 and sys.argv[1] == "stream":
        sys.exit(stream(*sys.argv[2:]))
    elif len(sys.argv) == 5 and sys.argv[1] == "probe":
        sys.exit(probe(*sys.argv[2:]))
    else:
        sys.exit(__doc__)
