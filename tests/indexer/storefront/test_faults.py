"""Fault specs, seeded draws, and every fault kind as a client sees it over real HTTP."""

from __future__ import annotations

import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from indexer.errors import ConfigError
from indexer.storefront import FAULT_KINDS, FaultSpec, parse_faults, running_storefront
from indexer.storefront.faults import FaultInjector

from .conftest import ETSY_KEY, SAMPLE

SPEC = "429=0.05,500=0.03,timeout=0.02,truncate=0.02,html=0.01,dup=0.02"


def test_parse_faults() -> None:
    spec = parse_faults(SPEC)
    assert spec.rates() == {"429": 0.05, "500": 0.03, "timeout": 0.02, "truncate": 0.02, "html": 0.01, "dup": 0.02}
    assert parse_faults(str(spec)) == spec
    assert parse_faults("") == FaultSpec() == parse_faults("none")
    assert parse_faults("5xx=0.1, slow=0.2").rates()["500"] == 0.1


@pytest.mark.parametrize("bad", ["429", "teapot=0.1", "429=abc", "429=1.5", "429=-0.1", "429=0.1,429=0.2",
                                 "429=0.6,500=0.6"])
def test_parse_faults_rejects_bad_specs(bad: str) -> None:
    with pytest.raises(ConfigError):
        parse_faults(bad)


def test_draws_follow_rates_and_are_reproducible() -> None:
    spec = parse_faults(SPEC)
    a, b = FaultInjector(spec, seed=7), FaultInjector(spec, seed=7)
    urls = [f"/shopify/s/products.json?page={i % 500}" for i in range(40_000)]
    kinds_a = [a.draw("GET", u, "").kind for u in urls]
    assert kinds_a == [b.draw("GET", u, "").kind for u in urls]  # same seed, same draws
    c = FaultInjector(spec, seed=8)
    assert kinds_a != [c.draw("GET", u, "").kind for u in urls]
    counts = Counter(kinds_a)
    for kind, rate in spec.rates().items():
        assert abs(counts[kind] / len(urls) - rate) < 0.25 * rate + 0.002, kind


def test_draws_do_not_depend_on_request_order() -> None:
    spec = parse_faults("429=0.3,500=0.3")
    urls = [f"/p?page={i}" for i in range(200)]
    fwd = FaultInjector(spec, seed=1)
    rev = FaultInjector(spec, seed=1)
    forward = {u: fwd.draw("GET", u, "").kind for u in urls}
    backward = {u: rev.draw("GET", u, "").kind for u in reversed(urls)}
    assert forward == backward


def _crawl_rounds(client: httpx.Client, sf, rounds: int) -> list[httpx.Response]:  # type: ignore[no-untyped-def]
    """Fetch every products.json page (limit 5) of two stores ``rounds`` times, plus Etsy pages."""
    out = []
    sid = sf.etsy_shop_ids["hollowoak-woodworks"]
    for _ in range(rounds):
        for slug in ("northfield-knits", "maple-trail-outfitters"):
            for page in range(1, 14):
                out.append(client.get(f"{sf.shopify_url(slug)}/products.json", params={"limit": 5, "page": page}))
        for offset in range(0, 40, 5):
            out.append(client.get(f"{sf.etsy_api}/shops/{sid}/listings/active", params={"limit": 5, "offset": offset},
                                  headers=ETSY_KEY))
    return out


def test_every_fault_kind_at_its_rate_over_http(client: httpx.Client) -> None:
    with running_storefront(SAMPLE, faults=SPEC, seed=3, slow_seconds=0.02, retry_after=0.5) as sf:
        responses = _crawl_rounds(client, sf, rounds=40)  # 40 × 34 = 1360 data requests
        stats = sf.fault_stats()
    n = len(responses)
    assert stats["requests"] == n
    counts = stats["counts"]
    assert set(counts) == set(FAULT_KINDS)
    for kind, rate in parse_faults(SPEC).rates().items():
        expected = rate * n * (24 / 34 if kind == "dup" else 1)  # dup only on Shopify pages after the first
        assert counts[kind] >= 1, kind
        assert 0.4 * expected <= counts[kind] <= 1.8 * expected + 3, (kind, counts[kind], expected)
    assert stats["total"] == len(stats["log"]) == sum(counts.values())
    statuses = Counter(r.status_code for r in responses)
    assert statuses[429] == counts["429"]
    assert sum(statuses[s] for s in (500, 502, 503)) == counts["500"]
    assert sum(1 for r in responses if r.headers["content-type"].startswith("text/html") and r.status_code == 200) \
        == counts["html"]
    bad_json = 0
    for r in responses:
        if r.status_code == 200 and r.headers["content-type"].startswith("application/json"):
            try:
                json.loads(r.content)
            except json.JSONDecodeError:
                bad_json += 1
    assert bad_json == counts["truncate"]
    assert all(r.headers.get("retry-after") == "0.5" for r in responses if r.status_code == 429)


def test_fault_log_entries_and_reset(client: httpx.Client) -> None:
    with running_storefront(SAMPLE, faults="429=0.5", seed=1, retry_after=1) as sf:
        for page in range(1, 9):
            client.get(f"{sf.shopify_url('thames-pottery')}/products.json", params={"page": page, "limit": 5})
        # .js, cart and admin are never faulted
        for _ in range(10):
            assert client.get(f"{sf.shopify_url('northfield-knits')}/products/classic-merino-wool-beanie.js"
                              ).status_code == 200
        stats = sf.fault_stats()
        assert stats["counts"]["429"] == len(stats["log"]) > 0
        assert all(kind == "429" and path.startswith("/shopify/thames-pottery/products.json?") for path, kind in
                   stats["log"])
        reset = sf.reset_faults()
        assert reset["total"] == 0 and reset["log"] == [] and reset["requests"] == 0
        sf.admin.set_faults("none")
        assert all(client.get(f"{sf.shopify_url('thames-pottery')}/products.json").status_code == 200
                   for _ in range(10))


def test_same_seed_same_faults_across_servers(client: httpx.Client) -> None:
    logs = []
    for _ in range(2):
        with running_storefront(SAMPLE, faults=SPEC, seed=11, slow_seconds=0.01) as sf:
            _crawl_rounds(client, sf, rounds=3)
            logs.append(sf.fault_stats()["log"])
    assert logs[0] == logs[1] and logs[0]


def test_dup_repeats_previous_page_and_timeout_is_slow(client: httpx.Client) -> None:
    with running_storefront(SAMPLE, faults="dup=1.0") as sf:
        url = f"{sf.shopify_url('northfield-knits')}/products.json"
        first = client.get(url, params={"limit": 10, "page": 1}).json()
        second = client.get(url, params={"limit": 10, "page": 2}).json()
        assert second == first  # page 2 served page 1's content
        assert sf.fault_stats()["counts"]["dup"] == 1  # page 1 has no previous page: not faulted
    with running_storefront(SAMPLE, faults="timeout=1.0", slow_seconds=5.0) as sf:
        slow = ThreadPoolExecutor(1).submit(client.get, f"{sf.shopify_url('northfield-knits')}/meta.json",
                                            timeout=1.0)
        time.sleep(0.1)
        t = time.perf_counter()  # other requests are served while the slow one sleeps
        with httpx.Client(trust_env=False) as other:
            assert other.get(f"{sf.shopify_url('northfield-knits')}/products/classic-merino-wool-beanie.js"
                             ).status_code == 200
        assert time.perf_counter() - t < 0.9
        with pytest.raises(httpx.ReadTimeout):
            slow.result()
        assert sf.fault_stats()["counts"]["timeout"] == 1
    # leaving the context manager wakes the sleeping handler: shutdown does not wait 5 s
