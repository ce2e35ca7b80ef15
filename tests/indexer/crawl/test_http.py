"""The polite client's logic with httpx.MockTransport (a supplement: the crawl tests use the real simulator)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from email.utils import formatdate
from typing import Any

import httpx
import pytest

from indexer.crawl.http import ClientSettings, PoliteClient, retry_after_seconds
from indexer.crawl.netguard import HostGuard
from indexer.errors import FetchError, RateLimitedError

PUBLIC = "http://8.8.8.8"


def run(handler: Callable[[httpx.Request], Any], coro: Callable[[PoliteClient], Any], **settings: Any) -> Any:
    base: dict[str, Any] = dict(delay=0.0, timeout=1.0, retries=3, backoff_base=0.01, backoff_max=0.02)
    base.update(settings)

    async def go() -> Any:
        async with PoliteClient(ClientSettings(**base), HostGuard(),
                                transport=httpx.MockTransport(handler)) as client:
            return await coro(client), client.stats

    return asyncio.run(go())


def scripted(*answers: Any) -> tuple[Callable[[httpx.Request], Any], list[float]]:
    """A handler answering from a script (an exception instance is raised); records request times."""
    times: list[float] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        times.append(time.monotonic())
        a = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(a, Exception):
            raise a
        return a

    return handler, times


def ok(body: Any = None) -> httpx.Response:
    return httpx.Response(200, json=body if body is not None else {"products": []})


def test_faults_are_retried_and_counted_by_kind() -> None:
    handler, _ = scripted(
        httpx.Response(503, text="<h1>down</h1>", headers={"content-type": "text/html"}),
        httpx.Response(200, text="<html>bot check</html>", headers={"content-type": "text/html"}),
        httpx.Response(200, content=b'{"products": [', headers={"content-type": "application/json"}),
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("refused"),
        ok({"products": [1]}),
    )
    body, stats = run(handler, lambda c: c.get_json(PUBLIC + "/products.json"), retries=5)
    assert body == {"products": [1]}
    assert dict(stats.retried) == {"5xx": 1, "html": 1, "bad_json": 1, "timeout": 1, "network": 1}
    assert stats.requests == 6


@pytest.mark.parametrize(("answer", "code"), [
    (httpx.Response(500, text="x"), "5xx"),
    (httpx.Response(200, text="<html></html>", headers={"content-type": "text/html"}), "html"),
    (httpx.Response(200, content=b'{"a": ', headers={"content-type": "application/json"}), "bad_json"),
    (httpx.ReadTimeout("slow"), "timeout"),
])
def test_bounded_retries_then_a_fetch_error(answer: Any, code: str) -> None:
    handler, times = scripted(answer)
    with pytest.raises(FetchError) as info:
        run(handler, lambda c: c.get_json(PUBLIC + "/p.json"), retries=2)
    assert info.value.code == code and len(times) == 3
    assert info.value.url == PUBLIC + "/p.json" and "gave up after 3 attempts" in info.value.message


def test_client_errors_are_not_retried() -> None:
    handler, times = scripted(httpx.Response(404, json={"errors": "Not Found"}))
    with pytest.raises(FetchError) as info:
        run(handler, lambda c: c.get_json(PUBLIC + "/products.json"))
    assert (info.value.status, info.value.code, len(times)) == (404, "http_404", 1)
    assert "Not Found" in info.value.message


def test_retry_after_is_honoured_and_429_forever_is_rate_limited() -> None:
    handler, times = scripted(httpx.Response(429, headers={"retry-after": "0.3"}, json={}), ok())
    run(handler, lambda c: c.get_json(PUBLIC + "/p.json"))
    assert times[1] - times[0] >= 0.29
    handler, times = scripted(httpx.Response(429, headers={"retry-after": "0"}, json={}))
    with pytest.raises(RateLimitedError):
        run(handler, lambda c: c.get_json(PUBLIC + "/p.json"), retries=2)
    assert len(times) == 3


def test_retry_after_parsing() -> None:
    assert retry_after_seconds("2") == 2.0
    assert retry_after_seconds("1.5") == 1.5
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    assert 9 <= (retry_after_seconds(formatdate(time.time() + 10, usegmt=True)) or 0) <= 10.5
    assert retry_after_seconds(formatdate(time.time() - 100, usegmt=True)) == 0.0


def test_a_long_retry_after_is_capped() -> None:
    handler, times = scripted(httpx.Response(429, headers={"retry-after": "3600"}, json={}), ok())
    run(handler, lambda c: c.get_json(PUBLIC + "/p.json"), retry_after_max=0.1)
    assert times[1] - times[0] < 60  # capped at 0.1 s, not an hour


def test_backoff_grows_exponentially_with_jitter() -> None:
    handler, times = scripted(httpx.Response(500), httpx.Response(500), httpx.Response(500), ok())
    run(handler, lambda c: c.get_json(PUBLIC + "/p.json"), backoff_base=0.05, backoff_max=10)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert gaps[0] >= 0.025 and gaps[1] >= 0.05 and gaps[2] >= 0.1  # 0.05 * 2**n, drawn in [d/2, d]
    assert gaps[2] < 5


def test_check_rejects_a_body_as_a_dup_fault() -> None:
    handler, times = scripted(ok({"n": 1}), ok({"n": 1}), ok({"n": 2}))
    body, stats = run(handler, lambda c: c.get_json(PUBLIC + "/p.json",
                                                    check=lambda b: "again" if b["n"] == 1 else None))
    assert body == {"n": 2} and stats.retried["dup"] == 2


def test_one_request_in_flight_per_host_with_a_minimum_delay_and_hosts_in_parallel() -> None:
    active: dict[str, int] = {}
    peak: dict[str, int] = {"all": 0}
    starts: dict[str, list[float]] = {}

    async def handler(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        active[host] = active.get(host, 0) + 1
        peak[host] = max(peak.get(host, 0), active[host])
        peak["all"] = max(peak["all"], sum(active.values()))
        starts.setdefault(host, []).append(time.monotonic())
        await asyncio.sleep(0.05)
        active[host] -= 1
        return ok()

    async def many(client: PoliteClient) -> None:
        await asyncio.gather(*(client.get_json(f"http://{h}/p{i}.json") for i in range(4)
                               for h in ("8.8.8.8", "1.1.1.1")))

    run(handler, many, delay=0.1)
    assert peak == {"8.8.8.8": 1, "1.1.1.1": 1, "all": 2}  # one per host, the two hosts side by side
    for s in starts.values():
        assert all(b - a >= 0.149 for a, b in zip(s, s[1:], strict=False))  # 0.05 s answer + 0.1 s delay


def test_oversized_answers_are_refused() -> None:
    handler, _ = scripted(httpx.Response(200, content=b"[" + b"1," * 5000 + b"1]",
                                         headers={"content-type": "application/json"}))
    with pytest.raises(FetchError) as info:
        run(handler, lambda c: c.get_json(PUBLIC + "/p.json"), max_bytes=1000)
    assert info.value.code == "too_large"


def test_per_host_allows_more_requests_in_flight_on_one_host() -> None:
    active, peak = [0], [0]

    async def handler(request: httpx.Request) -> httpx.Response:
        active[0] += 1
        peak[0] = max(peak[0], active[0])
        await asyncio.sleep(0.05)
        active[0] -= 1
        return ok()

    async def many(client: PoliteClient) -> None:
        await asyncio.gather(*(client.get_json(f"{PUBLIC}/p{i}.json") for i in range(6)))

    run(handler, many, per_host=3)
    assert peak[0] == 3


def test_bodies_are_parsed_leniently_and_sniffio_is_looked_up_once() -> None:
    import importlib.util
    import sys

    handler, _ = scripted(httpx.Response(200, content=b'{"price": NaN, "t": "a\\ud800"}',
                                         headers={"content-type": "application/json"}))
    body, _ = run(handler, lambda c: c.get_json(PUBLIC + "/x.json"))
    assert body["price"] != body["price"] and body["t"] == "a\ufffd"  # NaN read; lone surrogate replaced
    # httpcore imports sniffio for every pool lock; when it is not installed the failed lookup is remembered.
    assert "sniffio" in sys.modules
    if sys.modules["sniffio"] is None:
        assert importlib.util.find_spec("sniffio") is None
