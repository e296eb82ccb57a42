#!/usr/bin/env python3
"""Send a MongoDB `ping` (OP_MSG) to host:port and exit 0 if it answers ok: 1.

Used by ./dev as FerretDB's health check; standard library only.
usage: mongo-ping.py HOST PORT [TIMEOUT_SECONDS]
"""
import socket
import struct
import sys


def cstring(s):
    return s.encode() + b"\x00"


def bson_ping():
    body = b"\x10" + cstring("ping") + struct.pack("<i", 1)
    db = cstring("admin")
    body += b"\x02" + cstring("$db") + struct.pack("<i", len(db)) + db
    return struct.pack("<i", len(body) + 5) + body + b"\x00"


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed")
        buf += chunk
    return buf


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 3.0
    payload = struct.pack("<I", 0) + b"\x00" + bson_ping()  # flagBits, section kind 0
    header = struct.pack("<iiii", 16 + len(payload), 1, 0, 2013)  # OP_MSG
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(header + payload)
        length, _, _, opcode = struct.unpack("<iiii", recv_exact(sock, 16))
        reply = recv_exact(sock, length - 16)
    if opcode != 2013:
        print(f"unexpected reply opcode {opcode}", file=sys.stderr)
        return 1
    marker = reply.find(b"\x01ok\x00")  # double field "ok"
    if marker < 0 or struct.unpack("<d", reply[marker + 4 : marker + 12])[0] != 1.0:
        print("ping did not answer ok: 1", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, ConnectionError, struct.error) as exc:
        print(f"mongo ping failed: {exc}", file=sys.stderr)
        sys.exit(1)
