"""Start-up warm-up (issue 16): the model loads before ``/v1/health`` says ok; until then it says
``warming`` with HTTP 503 (what load balancers read as not ready)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from search.engine import Engine
from search.schema import SearchRequest, SearchResponse
from search.serve.http import create_app
from search.serve.warmup import warm
from tests.search.apiworld import World, running_api, sample_world


@pytest.fixture(scope="module")
def world(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with sample_world(sample_dir, tmp_path_factory.mktemp("warm"), hostile=False) as w:
        yield w


class GatedEngine:
    """The real engine, whose searches wait for ``gate`` (so the test sees the server while it warms)."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.gate, self.calls = engine, threading.Event(), 0

    def search(self, request: SearchRequest) -> SearchResponse:
        self.calls += 1
        assert self.gate.wait(30)
        return self.engine.search(request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)


def test_warm_loads_the_query_encoder(world: World) -> None:
    engine = Engine.open(world.ws)
    assert engine.encoder is None  # lazily loaded by the first dense search ...
    assert warm(engine) >= 0
    assert engine.encoder is not None  # ... which the warm-up made


def test_health_says_warming_with_503_until_warm(world: World) -> None:
    engine = GatedEngine(Engine.open(world.ws))
    app = create_app(engine=engine, refresh_interval=0)  # type: ignore[arg-type]
    with running_api(app, warm=False) as base, httpx.Client(base_url=base, timeout=30, trust_env=False) as c:
        early = c.get("/v1/health")
        assert early.status_code == 503 and early.headers["retry-after"] == "1"
        assert early.json()["status"] == "warming" and early.json()["snapshot"]["version"]
        engine.gate.set()
        assert app.state.warmup.wait(30)
        ready = c.get("/v1/health")
        assert ready.status_code == 200 and ready.json()["status"] == "ok"
        assert ready.json()["warm_s"] is not None and ready.json()["warm_error"] is None
    assert engine.calls == 3  # one throwaway search per mode: bm25, dense, hybrid
