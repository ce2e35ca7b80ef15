"""The edge of the HTTP API, below routing: the Host check, bearer auth, the body-size cap and telemetry.

On a loopback bind every request must name a loopback host (``127.0.0.1``, ``localhost``, ``[::1]`` or
the bind address, any port) in its ``Host`` header, else ``421 bad_host``: a web page that rebinds its
own domain name to 127.0.0.1 (DNS rebinding) sends its own name as Host and is refused, as ``/mcp``
already did. Off loopback the bearer token guards (a page cannot know it). The playground page and its
static files (shipped files, no catalog data) need no token: :func:`search.serve.playground.is_public_asset`.

:class:`EdgeGuard` is pure ASGI middleware, so a refused request is answered before any body parsing or
routing, and an unexpected exception is answered ``500 internal`` here (Starlette's last-resort handler
would re-raise and make the server drop a keep-alive connection). :func:`render_error` renders an
:class:`~search.serve.errors.EdgeError` in the aisle envelope, or UCP's ``error_response`` under ``/ucp/``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from indexer.crawl.netguard import is_loopback_host as is_loopback
from search.serve.errors import INTERNAL, EdgeError
from search.serve.playground import is_public_asset
from search.serve.ucp import ucp_error

_ENDPOINTS = (
    "/v1/search",
    "/v1/products",
    "/v1/checkout/check",
    "/v1/health",
    "/v1/stats",
    "/ucp/catalog/search",
    "/ucp/catalog/lookup",
    "/ucp/catalog/product",
    "/ucp/carts",
    "/ucp/buy",
    "/.well-known/ucp",
    "/acp/feed",
    "/mcp",
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("aisle.api")
MAX_JSON_DEPTH = 64  # no aisle request nests deeper than ~6 levels


class EndpointStats(BaseModel):
    count: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


class Telemetry:
    """Per-endpoint counters and a window of recent latencies (for /v1/stats)."""

    def __init__(self, window: int = 2000) -> None:
        self.started = time.monotonic()
        self.counts: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self.codes: Counter[str] = Counter()
        self.latency: dict[str, deque[float]] = {e: deque(maxlen=window) for e in _ENDPOINTS}

    @staticmethod
    def endpoint(path: str) -> str:
        return next((e for e in _ENDPOINTS if path == e or path.startswith(e + "/")), "other")

    def record(self, path: str, status: int, ms: float) -> None:
        name = self.endpoint(path)
        self.counts[name] += 1
        if status >= 400:
            self.failures[name] += 1
        if name in self.latency:
            self.latency[name].append(ms)

    def summary(self) -> dict[str, EndpointStats]:
        out = {}
        for name, n in self.counts.items():
            window = sorted(self.latency.get(name, ()))

            def pct(q: float, w: list[float] = window) -> float | None:
                return round(w[min(len(w) - 1, int(q * len(w)))], 3) if w else None

            out[name] = EndpointStats(
                count=n, errors=self.failures[name], p50_ms=pct(0.50), p95_ms=pct(0.95), p99_ms=pct(0.99)
            )
        return out




def _public(method: str, path: str) -> bool:
    """Requests served without the bearer token: the playground's shipped files, and UCP discovery
    (``GET /.well-known/ucp``): a UCP agent reads the profile before it holds any credential, and the
    profile names endpoints and versions only, no catalog data; every endpoint it names needs the token."""
    return is_public_asset(method, path) or (method in ("GET", "HEAD") and path == "/.well-known/ucp")


def loopback_hosts(bind_host: str) -> frozenset[str]:
    """Host names a loopback server answers to (lower case, without port or IPv6 brackets)."""
    return frozenset({"127.0.0.1", "localhost", "::1", bind_host.strip("[]").lower()})


def host_name(header: str) -> str:
    """The host of a ``Host`` header value, without port or IPv6 brackets, lower case."""
    h = header.strip().lower()
    if h.startswith("["):
        return h[1:].split("]", 1)[0]
    return h.rsplit(":", 1)[0] if h.count(":") == 1 else h


def render_error(path: str, err: EdgeError, telemetry: Telemetry | None = None) -> JSONResponse:
    if telemetry is not None:
        telemetry.codes[err.code] += 1
    body = ucp_error(err.status, err.code, err.message) if path.startswith("/ucp/") else err.body()
    headers = {"WWW-Authenticate": "Bearer"} if err.status == 401 else None
    return JSONResponse(body, status_code=err.status, headers=headers)


class EdgeGuard:
    """Pure ASGI middleware: bearer auth, body-size cap, request telemetry (before any parsing)."""

    def __init__(self, app: ASGIApp, *, token: str | None, max_body_bytes: int, telemetry: Telemetry,
                 bind_host: str | None = None) -> None:
        self.app = app
        self.hosts = loopback_hosts(bind_host) if bind_host is not None and is_loopback(bind_host) else None
        self.token = token.encode() if token else None
        self.max_body_bytes = max_body_bytes
        self.telemetry = telemetry

    def _host_ok(self, scope: Scope) -> bool:
        if self.hosts is None:
            return True
        for name, value in scope.get("headers", ()):
            if name == b"host":
                name = host_name(value.decode("latin-1"))
                return name in self.hosts or is_loopback(name)
        return True  # no Host header: not a browser (every browser request carries one)

    def _authorized(self, scope: Scope) -> bool:
        if self.token is None:
            return True
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                scheme, _, given = value.partition(b" ")
                # Constant-time compare; the digest of both sides keeps lengths from leaking too.
                return scheme.lower() == b"bearer" and hmac.compare_digest(_digest(given.strip()), _digest(self.token))
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path = scope.get("path", "")
        status = 500
        started_response = False

        async def send_status(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status = int(message["status"])
                started_response = True
            await send(message)

        try:
            if not self._host_ok(scope):
                err = EdgeError(421, "bad_host", "this server answers only requests addressed to a loopback host")
                await render_error(path, err, self.telemetry)(scope, receive, send_status)
                return
            if not self._authorized(scope) and not _public(scope.get("method", ""), path):
                err = EdgeError(401, "unauthorized", "missing or invalid bearer token")
                await render_error(path, err, self.telemetry)(scope, receive, send_status)
                return
            replay = await self._read_body(scope, receive)
            if isinstance(replay, EdgeError):
                await render_error(path, replay, self.telemetry)(scope, receive, send_status)
                return
            try:
                await self.app(scope, replay, send_status)
            except Exception:
                # Starlette's last-resort handler answers 500 and then re-raises, which makes the
                # server drop the connection (a keep-alive client sees a reset on its next request).
                # Answer here instead and keep the connection; the traceback goes to the log only.
                log.exception("unhandled error on %s", path)
                if started_response:
                    raise
                await render_error(path, INTERNAL, self.telemetry)(scope, receive, send_status)
        finally:
            self.telemetry.record(path, status, (time.perf_counter() - started) * 1000)

    async def _read_body(self, scope: Scope, receive: Receive) -> Receive | EdgeError:
        """Read the whole body (bounded) and return a receive that replays it, or the error to answer
        (``413 body_too_large``; ``400 malformed_json`` for JSON nested deeper than :data:`MAX_JSON_DEPTH`)."""
        too_large = EdgeError(413, "body_too_large", f"request body is larger than {self.max_body_bytes} bytes")
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_body_bytes:
                return too_large
        if scope.get("method") in ("GET", "HEAD", "DELETE", "OPTIONS"):
            return receive  # streams (MCP's GET) must not be drained here
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                chunks = []
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if json_depth(body) > MAX_JSON_DEPTH:
            return EdgeError(400, "malformed_json", f"request body nests JSON deeper than {MAX_JSON_DEPTH} levels")
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay


_NOT_STRUCTURE = bytes(c for c in range(256) if c not in b'"[]{}')


def json_depth(body: bytes) -> int:
    """How deep arrays and objects nest in ``body`` (brackets inside strings skipped); linear in its length.

    Deep nesting is refused before parsing: the parsers recurse once per level, so a 64 kB body of
    ``[[[[...`` would otherwise cost a RecursionError (or a stack) inside the framework. No regular
    expression here: escapes are removed by plain replacement (``\\\\`` pairs first, then ``\\"``), after
    which every quote opens or closes a string.
    """
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return 0
    depth = most = 0
    in_string = False
    for c in body.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_STRUCTURE):
        if c == 34:  # "
            in_string = not in_string
        elif in_string:
            continue
        elif c in (91, 123):  # [ {
            depth += 1
            most = max(most, depth)
        else:
            depth -= 1
    return most


def _digest(value: bytes) -> bytes:
    return hashlib.sha256(value).digest()
