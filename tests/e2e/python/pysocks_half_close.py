"""Half-closes a SOCKS5-proxied connection and reads the answer with PySocks.

Usage: pysocks_half_close.py PROXY_HOST PROXY_PORT TARGET_HOST TARGET_PORT SIZE

The target answers only after it sees this client's FIN, so the answer
arrives only if the proxy forwards the FIN and keeps the other direction
open. Prints one JSON object with what was sent and the answer received.
"""

import hashlib
import json
import os
import socket
import sys

import socks


def main() -> None:
    proxy_host, proxy_port, target_host, target_port, size = sys.argv[1:6]
    payload = os.urandom(int(size))
    sock = socks.socksocket(socket.AF_INET, socket.SOCK_STREAM)
    sock.set_proxy(socks.SOCKS5, proxy_host, int(proxy_port), rdns=False)
    sock.settimeout(30)
    sock.connect((target_host, int(target_port)))
    sock.sendall(payload)
    sock.shutdown(socket.SHUT_WR)
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
    sock.close()
    print(json.dumps({
        "sent": len(payload),
        "sentSha256": hashlib.sha256(payload).hexdigest(),
        "answer": b"".join(chunks).decode("utf-8", "replace"),
    }))


if __name__ == "__main__":
    main()
