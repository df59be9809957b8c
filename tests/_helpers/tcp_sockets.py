#!/usr/bin/env python3
"""Lists the TCP sockets of a running process with their TCP_NODELAY setting.

Usage: tcp_sockets.py PID

Prints one JSON object per line: {"local": "HOST:PORT", "remote": "HOST:PORT",
"nodelay": true|false}. Listening sockets are skipped. Each socket is
duplicated into this process with pidfd_getfd(2) (Linux 5.6+, needs ptrace
rights over PID, which root has) and read with getsockopt; the duplicate is
closed again, the process's own socket is untouched.
"""

import ctypes
import json
import os
import socket
import sys

SYS_PIDFD_OPEN = 434
SYS_PIDFD_GETFD = 438

libc = ctypes.CDLL(None, use_errno=True)


def fmt(addr):
    host, port = addr[0], addr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def main(pid):
    pidfd = libc.syscall(SYS_PIDFD_OPEN, pid, 0)
    if pidfd < 0:
        raise OSError(ctypes.get_errno(), "pidfd_open")
    try:
        for name in sorted(os.listdir(f"/proc/{pid}/fd"), key=int):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{name}")
            except OSError:
                continue  # closed meanwhile
            if not link.startswith("socket:"):
                continue
            local = libc.syscall(SYS_PIDFD_GETFD, pidfd, int(name), 0)
            if local < 0:
                continue
            sock = socket.socket(fileno=local)
            try:
                if sock.type != socket.SOCK_STREAM or sock.family not in (
                    socket.AF_INET,
                    socket.AF_INET6,
                ):
                    continue
                try:
                    remote = sock.getpeername()
                except OSError:
                    continue  # a listener, or not connected
                nodelay = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                print(
                    json.dumps(
                        {
                            "local": fmt(sock.getsockname()),
                            "remote": fmt(remote),
                            "nodelay": nodelay != 0,
                        }
                    )
                )
            finally:
                sock.close()
    finally:
        os.close(pidfd)


if __name__ == "__main__":
    main(int(sys.argv[1]))
