"""A polite async JSON client: one shared ``httpx.AsyncClient`` for a whole crawl.

Politeness is per origin (scheme, host, port): at most ``per_host`` requests in flight per origin
(default 1), and a minimum delay (``delay``, 0 allowed) between the end of one request and the start
of the next. Many origins are fetched in parallel. (``per_host > 1`` is for hosts that are yours, e.g.
a simulator serving many stores on one port.) A ``429`` pauses its whole origin for ``Retry-After`` seconds
(seconds or an HTTP date, capped by ``retry_after_max``); without the header it backs off like a 5xx.

Faults retried with exponential backoff and jitter (``backoff_base * 2**attempt``, capped by
``backoff_max``, each wait drawn in ``[d/2, d]``), at most ``retries`` times, by *kind*:

=========  ===============================================================
``429``    HTTP 429
``5xx``    HTTP 500-599
``timeout``  no answer within ``timeout`` seconds (connect, read or in total)
``network``  connection refused/reset, DNS failure, broken chunked body
``html``   a 2xx answer that is not JSON by content type (bot-check or a non-API site)
``bad_json``  a JSON answer whose body does not parse (truncated)
``dup``    the caller's ``check`` rejected the body (e.g. a repeated page)
=========  ===============================================================

Other 4xx answers are not retried. A fault that outlives the retries raises
:class:`~indexer.errors.FetchError` (``RateLimitedError`` for 429) with ``code`` = the kind (or
``http_<status>``), the URL and the status. Requests go through the one guarded client
(:class:`~indexer.crawl.guarded.AsyncGuardedClient`): every URL and redirect hop passes the
:class:`~indexer.crawl.netguard.HostGuard` and is sent to the address it checked, and credentials
(``x-api-key``) never follow a redirect to another origin. :attr:`PoliteClient.stats` counts requests and
retried faults by kind.
"""

from __future__ import annotations

import asyncio
import email.utils
import importlib.util
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from indexer import jsontext
from indexer.crawl.guarded import AsyncGuardedClient
from indexer.crawl.netguard import HostGuard
from indexer.errors import FetchError, HostNotAllowedError, RateLimitedError

if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
    # httpcore tries `import sniffio` for every connection-pool lock it sets up; without sniffio
    # installed (anyio 4 and httpx 0.28 no longer need it) each failed import searched sys.path
    # again: ~20 stat calls per request, a sixth of a fast crawl's CPU. A None entry makes the
    # import fail at once, and httpcore then assumes asyncio, which is what the crawler runs on.
    sys.modules["sniffio"] = None  # type: ignore[assignment]

USER_AGENT = "aisle-crawler/0.1 (+https://github.com/aisle-search/aisle; catalog indexing for agentic checkout)"


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """Knobs of :class:`PoliteClient` (times in seconds)."""

    delay: float = 0.5
    per_host: int = 1
    timeout: float = 20.0
    retries: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 120.0
    max_bytes: int = 64 * 1024 * 1024
    user_agent: str = USER_AGENT


@dataclass
class FetchStats:
    """Counters of one client (mutable; read after the crawl)."""

    requests: int = 0
    bytes: int = 0
    retried: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)


class _Retry(Exception):
    """One attempt's retryable fault."""

    def __init__(self, kind: str, message: str, status: int | None = None, wait: float | None = None) -> None:
        super().__init__(message)
        self.kind, self.message, self.status, self.wait = kind, message, status, wait


@dataclass
class _Origin:
    gate: asyncio.Semaphore
    not_before: float = 0.0


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now (delta-seconds or an HTTP date); None when absent or garbled."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _is_json_type(content_type: str) -> bool:
    ct = content_type.split(";", 1)[0].strip().lower()
    return ct.endswith("/json") or ct.endswith("+json") or ct in ("text/javascript", "application/javascript")


class PoliteClient:
    """Use as ``async with PoliteClient(settings, guard) as client: await client.get_json(url)``."""

    def __init__(self, settings: ClientSettings, guard: HostGuard, *,
                 transport: httpx.AsyncBaseTransport | None = None, rng: random.Random | None = None) -> None:
        self.settings = settings
        self.guard = guard
        self.stats = FetchStats()
        self._transport = transport
        self._rng = rng or random.Random()
        self._origins: dict[str, _Origin] = {}
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> PoliteClient:
        # The guarded client checks and pins every hop and drops credentials on a cross-origin redirect.
        self._client = AsyncGuardedClient(
            self.guard, transport=self._transport, timeout=httpx.Timeout(self.settings.timeout),
            follow_redirects=True, max_redirects=5,
            headers={"user-agent": self.settings.user_agent, "accept": "application/json"},
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()

    def _origin(self, url: str) -> _Origin:
        p = urlsplit(url)
        key = f"{p.scheme}://{p.netloc}".lower()
        if key not in self._origins:
            self._origins[key] = _Origin(asyncio.Semaphore(max(1, self.settings.per_host)))
        return self._origins[key]

    def _backoff(self, attempt: int) -> float:
        d = min(self.settings.backoff_max, self.settings.backoff_base * (2**attempt))
        return d / 2 + self._rng.uniform(0, d / 2)

    async def get_json(self, url: str, *, params: Mapping[str, Any] | None = None,
                       headers: Mapping[str, str] | None = None,
                       check: Callable[[Any], str | None] | None = None) -> Any:
        """GET ``url`` and return its parsed JSON, retrying faults (see module docstring).

        ``check(body)`` may return a reason to treat a well-formed body as a fault (kind ``dup``).
        """
        full = str(httpx.URL(url, params=dict(params or {})))
        await self.guard.check(full)
        last: _Retry | None = None
        for attempt in range(self.settings.retries + 1):
            try:
                body = await self._attempt(full, headers)
                reason = check(body) if check is not None else None
                if reason is None:
                    return body
                raise _Retry("dup", reason)
            except _Retry as fault:
                last = fault
                if attempt == self.settings.retries:
                    break
                self.stats.retried[fault.kind] += 1
                await asyncio.sleep(fault.wait if fault.wait is not None else self._backoff(attempt))
        assert last is not None
        self.stats.failed[last.kind] += 1
        tries = self.settings.retries + 1
        msg = f"{last.message} (gave up after {tries} attempt{'s' if tries > 1 else ''})"
        cls = RateLimitedError if last.kind == "429" else FetchError
        raise cls(msg, url=full, status=last.status, code=last.kind)

    async def _attempt(self, url: str, headers: Mapping[str, str] | None) -> Any:
        assert self._client is not None, "use PoliteClient as an async context manager"
        origin = self._origin(url)
        async with origin.gate:
            wait = origin.not_before - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                self.stats.requests += 1
                status, ctype, resp_headers, data = await asyncio.wait_for(
                    self._send(url, headers), timeout=self.settings.timeout * 6)
            except (httpx.TimeoutException, TimeoutError):
                raise _Retry("timeout", f"no answer within {self.settings.timeout:g} s") from None
            except HostNotAllowedError:
                raise
            except FetchError as exc:
                if exc.code != "dns_error":
                    raise
                raise _Retry("network", exc.message) from None  # the guard could not resolve the host
            except httpx.TooManyRedirects:
                raise FetchError("too many redirects", url=url, code="redirects") from None
            except (httpx.TransportError, httpx.DecodingError) as exc:
                raise _Retry("network", f"{type(exc).__name__}: {exc}") from None
            finally:
                origin.not_before = max(origin.not_before, time.monotonic() + self.settings.delay)
            if status == 429:
                after = retry_after_seconds(resp_headers.get("retry-after"))
                if after is not None:
                    after = min(after, self.settings.retry_after_max)
                    origin.not_before = max(origin.not_before, time.monotonic() + after)
                raise _Retry("429", "HTTP 429 Too Many Requests", 429, wait=0.0 if after is not None else None)
        return self._decode(url, status, ctype, data)

    async def _send(self, url: str, headers: Mapping[str, str] | None) -> tuple[int, str, httpx.Headers, bytes]:
        assert self._client is not None
        async with self._client.stream("GET", url, headers=dict(headers or {})) as resp:
            if resp.status_code >= 400:  # error bodies are small and only quoted in messages
                data = await resp.aread()
                return resp.status_code, resp.headers.get("content-type", ""), resp.headers, data[:2000]
            chunks, size = [], 0
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > self.settings.max_bytes:
                    raise FetchError(f"answer larger than {self.settings.max_bytes} bytes", url=url,
                                     status=resp.status_code, code="too_large")
                chunks.append(chunk)
            self.stats.bytes += size
            return resp.status_code, resp.headers.get("content-type", ""), resp.headers, b"".join(chunks)

    @staticmethod
    def _decode(url: str, status: int, ctype: str, data: bytes) -> Any:
        if 500 <= status <= 599:
            raise _Retry("5xx", f"HTTP {status}", status)
        if status >= 300:
            excerpt = data[:300].decode("utf-8", "replace").strip()
            raise FetchError(f"HTTP {status}: {excerpt}", url=url, status=status, code=f"http_{status}")
        if not _is_json_type(ctype):
            raise _Retry("html", f"expected JSON, got {ctype or 'no content type'} (HTTP {status})", status)
        try:
            return jsontext.loads(data)
        except ValueError as exc:
            raise _Retry("bad_json", f"malformed JSON body ({len(data)} bytes): {exc}", status) from None
