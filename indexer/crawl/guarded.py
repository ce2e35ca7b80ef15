"""The one guarded HTTP client: every outgoing request aisle makes goes through here.

Use :class:`GuardedClient` (blocking) or :class:`AsyncGuardedClient` exactly like ``httpx.Client`` /
``httpx.AsyncClient`` (same ``get``, ``post``, ``stream``, ``request``...)::

    guard = HostGuard(settings.allow_hosts)                     # --allow-host / AISLE_ALLOW_HOSTS
    with GuardedClient(guard, timeout=5.0) as http:
        r = http.get(url, headers={"x-api-key": key})            # redirects followed, each hop checked

What they add to httpx:

* **Every hop checked and pinned.** The transport asks :meth:`HostGuard.pin_sync` / :meth:`HostGuard.pin`
  for each request it sends (the first URL and every redirect), and connects to the address the guard
  checked, with the original ``Host`` header and TLS SNI (``sni_hostname``): the name is never resolved
  again between check and connect, so DNS rebinding has nothing to rebind. A refusal raises
  :class:`~indexer.errors.HostNotAllowedError` (not an ``httpx`` error: catch both).
* **Credentials stay with their origin.** On a redirect to another origin (scheme, host or port differ)
  ``Authorization``, ``Proxy-Authorization``, ``Cookie``, ``x-api-key`` and the names in
  ``secret_headers`` are dropped, http → https upgrades included.
* **No ambient configuration.** ``trust_env=False`` (no proxy or netrc from the environment), at most
  ``max_redirects`` hops (3 by default), redirects followed unless ``follow_redirects=False``.

An injected ``transport`` (tests: ``httpx.MockTransport``) is wrapped, not replaced, so it also only
ever sees checked, pinned requests. :func:`read_capped` reads an answer with a size and total-time cap
(a hostile server can trickle or flood); the crawler's ``PoliteClient`` has its own caps.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import httpx

from indexer.crawl.netguard import HostGuard, Pinned
from indexer.errors import FetchError

SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})


def _pinned_request(request: httpx.Request, pinned: Pinned) -> httpx.Request:
    """The request to hand the connection pool: the URL's host replaced by the checked address."""
    if not pinned.address:
        return request
    ext = dict(request.extensions)
    if request.url.scheme == "https":
        ext.setdefault("sni_hostname", pinned.host)  # certificate checked against the name, not the IP
    # httpx set the Host header from the original URL when the request was built; it goes out unchanged.
    return httpx.Request(request.method, request.url.copy_with(host=pinned.address), headers=request.headers,
                         stream=request.stream, extensions=ext)


def _pool_key(request: httpx.Request, pinned: Pinned) -> str:
    # Pools are keyed by the address connected to; a TLS connection also belongs to the name its
    # certificate was checked for, so https gets one pool per name (two stores on one CDN address never
    # share a connection verified for the other).
    return pinned.host if request.url.scheme == "https" else ""


class GuardedTransport(httpx.BaseTransport):
    """A blocking transport that checks and pins every request (see the module docstring)."""

    def __init__(self, guard: HostGuard, inner: httpx.BaseTransport | None = None, **kwargs: Any) -> None:
        self.guard = guard
        self._injected = inner
        self._kwargs = kwargs
        self._pools: dict[str, httpx.BaseTransport] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Check the request's URL, then send it to the checked address."""
        pinned = self.guard.pin_sync(str(request.url))
        inner = self._injected
        if inner is None:
            key = _pool_key(request, pinned)
            inner = self._pools.get(key) or self._pools.setdefault(
                key, httpx.HTTPTransport(trust_env=False, **self._kwargs))
        return inner.handle_request(_pinned_request(request, pinned))

    def close(self) -> None:
        for pool in [*self._pools.values(), *([self._injected] if self._injected else [])]:
            pool.close()


class AsyncGuardedTransport(httpx.AsyncBaseTransport):
    """The asyncio form of :class:`GuardedTransport`."""

    def __init__(self, guard: HostGuard, inner: httpx.AsyncBaseTransport | None = None, **kwargs: Any) -> None:
        self.guard = guard
        self._injected = inner
        self._kwargs = kwargs
        self._pools: dict[str, httpx.AsyncBaseTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Check the request's URL (resolving off the event loop), then send it to the checked address."""
        pinned = await self.guard.pin(str(request.url))
        inner = self._injected
        if inner is None:
            key = _pool_key(request, pinned)
            inner = self._pools.get(key) or self._pools.setdefault(
                key, httpx.AsyncHTTPTransport(trust_env=False, **self._kwargs))
        return await inner.handle_async_request(_pinned_request(request, pinned))

    async def aclose(self) -> None:
        for pool in [*self._pools.values(), *([self._injected] if self._injected else [])]:
            await pool.aclose()


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80)


def strip_secrets(headers: httpx.Headers, old: httpx.URL, new: httpx.URL, secret: Iterable[str]) -> httpx.Headers:
    """``headers`` without credentials when ``new`` is another origin than ``old`` (any scheme change counts)."""
    if _origin(old) != _origin(new):
        for name in secret:
            headers.pop(name, None)
    return headers


def _options(kwargs: dict[str, Any]) -> tuple[dict[str, Any], frozenset[str]]:
    secret = SECRET_HEADERS | {h.lower() for h in kwargs.pop("secret_headers", ())}
    kwargs.setdefault("follow_redirects", True)
    kwargs.setdefault("max_redirects", 3)
    kwargs["trust_env"] = False
    return kwargs, secret


class GuardedClient(httpx.Client):
    """``httpx.Client`` whose every request passes the guard (args as httpx, plus ``secret_headers``)."""

    def __init__(self, guard: HostGuard, *, transport: httpx.BaseTransport | None = None, **kwargs: Any) -> None:
        kwargs, self._secret = _options(kwargs)
        super().__init__(transport=GuardedTransport(guard, transport), **kwargs)

    # httpx builds each redirect's headers here (a private hook, stable since 0.18; if an upgrade renames it,
    # tests/security/test_egress.py's credentials test fails rather than the key leaking silently).
    def _redirect_headers(self, request: httpx.Request, url: httpx.URL, method: str) -> httpx.Headers:
        return strip_secrets(super()._redirect_headers(request, url, method), request.url, url, self._secret)


class AsyncGuardedClient(httpx.AsyncClient):
    """``httpx.AsyncClient`` whose every request passes the guard (args as httpx, plus ``secret_headers``)."""

    def __init__(self, guard: HostGuard, *, transport: httpx.AsyncBaseTransport | None = None,
                 limits: httpx.Limits | None = None, **kwargs: Any) -> None:
        kwargs, self._secret = _options(kwargs)
        pool: dict[str, Any] = {"limits": limits} if limits is not None else {}
        super().__init__(transport=AsyncGuardedTransport(guard, transport, **pool), **kwargs)

    def _redirect_headers(self, request: httpx.Request, url: httpx.URL, method: str) -> httpx.Headers:
        return strip_secrets(super()._redirect_headers(request, url, method), request.url, url, self._secret)


MAX_ANSWER_BYTES = 2 * 1024 * 1024


def read_capped(http: httpx.Client, url: str, *, headers: dict[str, str] | None = None,
                max_bytes: int = MAX_ANSWER_BYTES, total_s: float | None = None) -> tuple[httpx.Response, bytes]:
    """``GET url`` and read its body, refusing more than ``max_bytes`` or more than ``total_s`` seconds in all.

    httpx's timeouts bound each read, not the whole answer: a merchant trickling bytes, or sending a huge
    body, would otherwise hold a worker and its memory. Raises :class:`~indexer.errors.FetchError`
    (``too_large`` / ``timeout``) past a limit; httpx errors and refusals of the guard pass through.
    """
    total = total_s if total_s is not None else 3 * (http.timeout.read or 5.0)
    deadline = time.monotonic() + total
    with http.stream("GET", url, headers=headers) as resp:
        chunks, size = [], 0
        for chunk in resp.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(f"answer larger than {max_bytes} bytes", url=url, code="too_large")
            if time.monotonic() > deadline:
                raise FetchError(f"answer took longer than {total:g} s", url=url, code="timeout")
            chunks.append(chunk)
    return resp, b"".join(chunks)
