"""Real loopback HTTP servers for the security tests: a scripted server that records every request.

``serving(host, answer)`` binds ``host`` (any 127.x.y.z address is loopback on Linux) on a free port (or
``port``), answers each request with ``answer(request) -> (status, headers, body)`` in a daemon thread, and
yields a :class:`Loopback` with its base URL and the requests it received (path, headers).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = Callable[["Seen"], tuple[int, dict[str, str], bytes]]


@dataclass(frozen=True)
class Seen:
    """One request a loopback server received."""

    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Loopback:
    """A running loopback server: where it listens and what it was asked."""

    host: str
    port: int
    seen: list[Seen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def paths(self) -> list[str]:
        return [s.path for s in self.seen]


def json_answer(body: Any, status: int = 200) -> tuple[int, dict[str, str], bytes]:
    """An ``application/json`` answer."""
    return status, {"content-type": "application/json"}, json.dumps(body).encode()


def redirect(location: str, status: int = 302) -> tuple[int, dict[str, str], bytes]:
    """A redirect answer."""
    return status, {"location": location, "content-type": "text/plain"}, b"moved"


@contextlib.contextmanager
def serving(host: str, answer: Answer, port: int = 0) -> Iterator[Loopback]:
    """Serve ``answer`` on ``host:port`` until the block exits (see the module docstring)."""
    lb = Loopback(host, 0)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
            with lock:
                lb.seen.append(seen)
            status, headers, body = answer(seen)
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _any  # noqa: N815

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    lb.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield lb
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
