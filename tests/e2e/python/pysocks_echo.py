"""Sends random bytes through a SOCKS5 proxy to an echo server with PySocks.

Usage: pysocks_echo.py PROXY_HOST PROXY_PORT TARGET_HOST TARGET_PORT SIZE

Prints one JSON object: sent/received byte counts, their sha256 and whether
the echo was byte-exact. Sending runs on its own thread so that neither side
can stall on a full socket buffer while the other is not being drained.
"""

import hashlib
import json
import os
import socket
import sys
import threading

import socks


def main() -> None:
    proxy_host, proxy_port, target_host, target_port, size = sys.argv[1:6]
    payload = os.urandom(int(size))
    sock = socks.socksocket(socket.AF_INET, socket.SOCK_STREAM)
    sock.set_proxy(socks.SOCKS5, proxy_host, int(proxy_port), rdns=False)
    sock.settimeout(30)
    sock.connect((target_host, int(target_port)))

    def send() -> None:
        sock.sendall(payload)
        # FIN after the payload: the echo server answers with its own FIN,
        # which ends the receive loop below.
        sock.shutdown(socket.SHUT_WR)

    sender = threading.Thread(target=send)
    sender.start()
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
    sender.join(timeout=30)
    sock.close()
    received = b"".join(chunks)
    print(json.dumps({
        "sent": len(payload),
        "received": len(received),
        "sentSha256": hashlib.sha256(payload).hexdigest(),
        "receivedSha256": hashlib.sha256(received).hexdigest(),
        "equal": received == payload,
    }))


if __name__ == "__main__":
    main()
