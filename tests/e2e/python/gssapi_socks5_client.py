"""An independent SOCKS5 GSS-API client (RFC 1961) on python3-gssapi.

Usage: gssapi_socks5_client.py PROXY_HOST PROXY_PORT SERVICE@HOST LEVEL
       TARGET_HOST TARGET_PORT PAYLOAD_BYTES

Authenticates with the default credential cache (KRB5CCNAME), asks for
protection LEVEL (0, 1 or 2), CONNECTs to the target, sends PAYLOAD_BYTES
deterministic bytes through the echo target, half-closes, reads the echo and
prints one JSON object: the agreed level, byte counts, sha256 of both
directions, and whether the bytes it wrote to the proxy socket contained the
plaintext marker (they must not at level 2).
"""

import hashlib
import json
import socket
import struct
import sys

import gssapi

MARKER = b"PLAINTEXT-MARKER-1961"


def recv_exact(sock, n):
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise EOFError("proxy closed after %d of %d bytes" % (len(out), n))
        out += chunk
    return out


def read_frame(sock, mtyp):
    head = recv_exact(sock, 2)
    if head == b"\x01\xff":
        raise PermissionError("proxy sent the GSS-API abort")
    if head != bytes([1, mtyp]):
        raise ValueError("unexpected GSS-API header %s" % head.hex())
    (length,) = struct.unpack("!H", recv_exact(sock, 2))
    return recv_exact(sock, length)


class Wire:
    """Records what goes to the proxy, wraps per the agreed level."""

    def __init__(self, sock):
        self.sock = sock
        self.sent = b""
        self.pending = b""
        self.ctx = None
        self.level = 0

    def send(self, data):
        if self.level:
            for i in range(0, len(data), 16384):
                wrapped = self.ctx.wrap(data[i:i + 16384], self.level == 2)
                if self.level == 2 and not wrapped.encrypted:
                    raise RuntimeError("not encrypted at level 2")
                token = wrapped.message
                frame = b"\x01\x03" + struct.pack("!H", len(token)) + token
                self.raw(frame)
        else:
            self.raw(data)

    def raw(self, data):
        self.sent += data
        self.sock.sendall(data)

    def recv_exact(self, n):
        if not self.level:
            return recv_exact(self.sock, n)
        while len(self.pending) < n:
            token = read_frame(self.sock, 3)
            plain = self.ctx.unwrap(token)
            if self.level == 2 and not plain.encrypted:
                raise RuntimeError("reply not encrypted at level 2")
            self.pending += plain.message
        out, self.pending = self.pending[:n], self.pending[n:]
        return out


def main():
    proxy_host, proxy_port, target_name, level = sys.argv[1:5]
    target_host, target_port, size = sys.argv[5], int(sys.argv[6]), int(sys.argv[7])
    sock = socket.create_connection((proxy_host, int(proxy_port)), timeout=20)
    wire = Wire(sock)
    wire.raw(b"\x05\x01\x01")
    if recv_exact(sock, 2) != b"\x05\x01":
        raise PermissionError("proxy did not choose GSS-API")
    name = gssapi.Name(target_name, gssapi.NameType.hostbased_service)
    ctx = gssapi.SecurityContext(
        name=name,
        usage="initiate",
        flags=gssapi.RequirementFlag.mutual_authentication
        | gssapi.RequirementFlag.integrity
        | gssapi.RequirementFlag.confidentiality,
    )
    token = ctx.step()
    while True:
        if token:
            wire.raw(b"\x01\x01" + struct.pack("!H", len(token)) + token)
        if ctx.complete:
            break
        token = ctx.step(read_frame(sock, 1))
    sealed = ctx.wrap(bytes([int(level)]), False).message
    wire.raw(b"\x01\x02" + struct.pack("!H", len(sealed)) + sealed)
    agreed = ctx.unwrap(read_frame(sock, 2)).message[0]
    wire.ctx = ctx
    wire.level = agreed
    host = socket.inet_aton(target_host)
    wire.send(b"\x05\x01\x00\x01" + host + struct.pack("!H", target_port))
    reply = wire.recv_exact(10)
    if reply[1] != 0:
        raise ConnectionRefusedError("proxy replied %d" % reply[1])
    payload = (MARKER + bytes(i * 7 % 251 for i in range(size)))[:size]
    wire.send(payload)
    echoed = wire.recv_exact(len(payload))
    print(json.dumps({
        "level": agreed,
        "principal": str(ctx.initiator_name),
        "sent": len(payload),
        "received": len(echoed),
        "equal": echoed == payload,
        "sentSha256": hashlib.sha256(payload).hexdigest(),
        "receivedSha256": hashlib.sha256(echoed).hexdigest(),
        "markerOnWire": MARKER in wire.sent,
    }))
    sock.close()


if __name__ == "__main__":
    main()
