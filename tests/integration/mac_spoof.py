#!/usr/bin/env python3
"""tests/integration/mac_spoof.py: a container that sends broadcast frames from N random
source MACs (unicast, locally administered), as fast as it can.

  mac_spoof.py IFNAME N"""
import os
import socket
import sys


def main():
    ifname, n = sys.argv[1], int(sys.argv[2])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    for _ in range(n):
        src = bytearray(os.urandom(6))
        src[0] = (src[0] & 0xfc) | 0x02  # unicast, locally administered
        s.send(b"\xff" * 6 + bytes(src) + b"\x88\xb5" + b"mesh-test-spoof".ljust(46, b"\0"))
    print(n)


if __name__ == "__main__":
    main()
