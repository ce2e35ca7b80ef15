"""The query's encoding started beside the filter (search.retrieval.encoding ``QueryVectors.prefetch``,
``EngineSettings.prefetch_query_vector``): the same answers, one encoding per text, errors raised in the request.

A counting wrapper around the hashing encoder stands in for the model here; the real model's answers with the
setting on and off are compared in tests/search/retrieval/test_encoding.py.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from indexer.build.embed import HashingEncoder
from search.engine import Engine, EngineSettings
from search.retrieval.encoding import QueryVectors
from search.schema import SearchRequest
from tests.search.conftest import make_snapshot, merchant, product, variant


class Counting:
    """The hashing encoder, recording every batch; ``gate`` (when set) holds each call until it is set;
    ``fail`` makes every call raise."""

    def __init__(self, dim: int) -> None:
        self.inner = HashingEncoder(dim)
        self.name, self.dim = self.inner.name, dim
        self.batches: list[tuple[str, ...]] = []
        self.threads: list[str] = []
        self.gate: threading.Event | None = None
        self.started = threading.Event()
        self.fail: Exception | None = None

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        self.batches.append(tuple(texts))
        self.threads.append(threading.current_thread().name)
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(10)
        if self.fail is not None:
            raise self.fail
        return self.inner.encode(texts)


def _catalog() -> tuple[list[Any], list[Any]]:
    a, b = merchant("shop-a.myshopify.com"), merchant("shop-b.myshopify.com")
    products = [
        product("Red wool beanie", [variant({"Color": "Red", "Size": "M"}, price=2500),
                                    variant({"Color": "Blue", "Size": "L"}, price=2700)], m=a),
        product("Blue cotton scarf", [variant({"Color": "Blue"}, price=1900)], m=b),
        product("Hiking boots waterproof", [variant({"Size": "42"}, price=9900)], m=a, product_type="Boots"),
        product("Leather hiking boot laces", [variant(price=500)], m=b),
        product("Washi tape set", [variant({"Color": "Green"}, price=800)], m=a),
        product("Wool socks for hiking", [variant({"Size": "M", "Color": "Grey"}, price=1200)], m=b),
    ]
    return products, [a, b]


QUERIES = ["red beanie size M", "hiking boots under $50", "scarf, not black", "washi tape", "blue", "wool",
           "something warm for winter hikes"]


def _engines() -> tuple[Engine, Engine, Counting, Counting]:
    products, merchants = _catalog()
    snap = make_snapshot(products, merchants, dim=32)
    on_enc, off_enc = Counting(32), Counting(32)
    settings = EngineSettings(stale_ttl_s=None, multilingual_weight=0.0)
    on = Engine(snap, encoder=on_enc, settings=settings)  # type: ignore[arg-type]
    off = Engine(snap, encoder=off_enc, settings=replace(settings, prefetch_query_vector=False))  # type: ignore[arg-type]
    return on, off, on_enc, off_enc


def test_answers_and_encodings_are_the_same_with_and_without_prefetch() -> None:
    on, off, on_enc, off_enc = _engines()
    assert on.settings.prefetch_query_vector and not off.settings.prefetch_query_vector
    for mode in ("hybrid", "dense", "bm25"):
        for q in QUERIES:
            for near in (False, True):
                req = SearchRequest(query=q, mode=mode, include_near=near, explain=True)  # type: ignore[arg-type]
                on.clear_query_cache()
                off.clear_query_cache()
                a, b = on.search(req), off.search(req)
                assert a.model_dump(exclude={"took_ms"}) == b.model_dump(exclude={"took_ms"}), (mode, q, near)
    # the very same batches were encoded (the kind phrase with the query, in one pass), each once
    assert on_enc.batches == off_enc.batches and len(on_enc.batches) > len(QUERIES)
    assert any(len(b) == 2 for b in on_enc.batches)  # a query with constraints: its kind phrase in the batch
    assert set(on_enc.threads) != {threading.current_thread().name}  # encoded on the prefetch thread
    assert set(off_enc.threads) == {threading.current_thread().name}


def _gated() -> tuple[Any, Counting, QueryVectors, threading.Event]:
    """A small snapshot, an encoder that holds every batch until its gate opens, the query vectors, the gate."""
    products, merchants = _catalog()
    snap = make_snapshot(products, merchants, dim=32)
    enc = Counting(32)
    enc.gate = gate = threading.Event()
    return snap, enc, QueryVectors(enc), gate  # type: ignore[arg-type]


def test_a_running_prefetch_is_waited_for_not_encoded_again() -> None:
    snap, enc, vectors, gate = _gated()
    vectors.prefetch(snap, ["red beanie", "beanie"])
    assert enc.started.wait(10)
    got: list[list[np.ndarray]] = []
    asker = threading.Thread(target=lambda: got.append(vectors.encode_many(snap, ["red beanie", "beanie"])))
    asker.start()
    asker.join(0.2)
    assert asker.is_alive()  # waiting for the running batch
    gate.set()
    asker.join(10)
    assert enc.batches == [("red beanie", "beanie")]
    np.testing.assert_array_equal(np.stack(got[0]), HashingEncoder(32).encode(["red beanie", "beanie"]))
    vectors.prefetch(snap, ["red beanie"])  # cached: nothing started
    assert vectors.encode(snap, "beanie") is not None and enc.batches == [("red beanie", "beanie")]


def test_a_prefetch_not_yet_started_is_cancelled_and_encoded_by_the_asker() -> None:
    snap, enc, vectors, gate = _gated()
    vectors.prefetch(snap, ["first"])  # occupies the one prefetch thread
    assert enc.started.wait(10)
    vectors.prefetch(snap, ["second"])  # queued behind it
    asker = threading.Thread(target=lambda: vectors.encode(snap, "second"))
    asker.start()
    asker.join(0.5)
    assert enc.batches[-1] == ("second",) and enc.threads[-1] == asker.name  # not queued behind "first"
    gate.set()
    asker.join(10)
    assert not asker.is_alive() and vectors.encode(snap, "first") is not None
    assert enc.batches == [("first",), ("second",)]


@pytest.mark.parametrize("prefetch", [True, False])
def test_an_encoder_error_is_raised_in_the_request(prefetch: bool) -> None:
    products, merchants = _catalog()
    snap = make_snapshot(products, merchants, dim=32)
    enc = Counting(32)
    enc.fail = RuntimeError("encoder broke")
    engine = Engine(snap, encoder=enc, settings=EngineSettings(stale_ttl_s=None,  # type: ignore[arg-type]
                                                               prefetch_query_vector=prefetch))
    for q in ("red beanie size M", "washi tape"):
        with pytest.raises(RuntimeError, match="encoder broke"):
            engine.search(SearchRequest(query=q, mode="hybrid"))
    enc.fail = None  # the failure is not kept: the next search encodes again and answers
    assert engine.search(SearchRequest(query="washi tape", mode="dense")).results
    assert engine.search(SearchRequest(query="washi tape", mode="bm25")).results


def test_a_dimension_mismatch_is_the_same_error_either_way() -> None:
    from indexer.errors import ConfigError

    products, merchants = _catalog()
    snap = make_snapshot(products, merchants, dim=32)
    for prefetch in (True, False):
        enc = HashingEncoder(16)
        enc.name = snap.manifest["model"]  # the snapshot's model name, vectors of another dimension
        engine = Engine(snap, encoder=enc, settings=EngineSettings(stale_ttl_s=None, prefetch_query_vector=prefetch))
        with pytest.raises(ConfigError, match="16 dimensions"):
            engine.search(SearchRequest(query="washi tape", mode="dense"))


def test_bm25_and_filter_only_searches_encode_nothing() -> None:
    on, _, enc, _ = _engines()
    on.search(SearchRequest(query="washi tape", mode="bm25"))
    on.search(SearchRequest(query="", mode="hybrid", filters={"merchant": ["shop-a.myshopify.com"]}))
    assert enc.batches == []


def test_concurrent_searches_share_the_prefetch_thread_and_answer_as_one_at_a_time() -> None:
    """Requests of HTTP threads at once: each gets its own answer (a prefetch waited for, cancelled or its own)."""
    from concurrent.futures import ThreadPoolExecutor

    on, off, on_enc, _ = _engines()
    reqs = [SearchRequest(query=q, mode=m, include_near=True)  # type: ignore[arg-type]
            for q in QUERIES for m in ("hybrid", "dense")] * 3
    want = [off.search(r).model_dump(exclude={"took_ms"}) for r in reqs]

    def answer(r: SearchRequest) -> dict[str, Any]:
        on.clear_query_cache()  # other threads' vectors come and go: every path of encode_many is taken
        return on.search(r).model_dump(exclude={"took_ms"})

    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(answer, reqs))
    assert got == want
    assert on_enc.batches  # encoded, on the prefetch thread or the requests' own
