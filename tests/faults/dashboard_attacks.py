"""Helpers for the dashboard attacks: raw streamed bodies over a socket and this process's RSS."""

from __future__ import annotations

import select
import socket
from pathlib import Path
from urllib.parse import urlsplit


def rss_mb() -> float:
    """This process's resident set size in MB (uvicorn serves the app in a thread of the test process)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def stream_body(base_url: str, path: str, total: int, *, content_type: str = "application/x-www-form-urlencoded",
                declare: bool = False, chunk: int = 256 * 1024) -> tuple[int, int]:
    """POST ``total`` bytes to ``path`` (chunked, or with a declared Content-Length), reading the answer as soon
    as the server sends one. Returns (status, bytes sent before the answer)."""
    url = urlsplit(base_url)
    with socket.create_connection((url.hostname or "127.0.0.1", url.port or 80), timeout=30) as s:
        length = f"Content-Length: {total}\r\n" if declare else "Transfer-Encoding: chunked\r\n"
        s.sendall((f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: {content_type}\r\n"
                   f"{length}\r\n").encode())
        data = b"a=" + b"x" * (chunk - 2)
        piece = data if declare else f"{len(data):x}\r\n".encode() + data + b"\r\n"
        sent = 0
        while sent < total:
            readable, writable, _ = select.select([s], [s], [], 30)
            if readable:
                break
            if writable:
                try:
                    s.sendall(piece)
                except OSError:
                    break
                sent += len(data)
        else:
            if not declare:
                s.sendall(b"0\r\n\r\n")
        answer = b""
        while b"\r\n" not in answer:
            more = s.recv(4096)
            if not more:
                break
            answer += more
        status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
        return status, sent
