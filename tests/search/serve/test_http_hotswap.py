"""Hot swap under load: ``aisle serve`` (a subprocess) answers a continuous stream of queries while
``aisle crawl`` and ``aisle index`` (subprocesses) rewrite the catalog and switch the snapshot, twice.
Zero failed requests; the server moves to each new snapshot without a restart; it never holds the
DuckDB catalog open (the crawl, in another process, can write it)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from indexer.build.index import index_workspace
from indexer.storefront import running_storefront
from indexer.workspace import Workspace
from tests.search.apiworld import ETSY_KEY, crawl_into, stop_process

QUERIES = ["merino beanie", "tea mug", "hiking boots", "notebook", "oak", "red wool scarf under $40",
           "zephyr tea cosy", "washi tape", "candle", "linen"]


def _aisle() -> str:
    return shutil.which("aisle") or str(Path(sys.executable).with_name("aisle"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run([_aisle(), *args], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])


class Stream:
    """Client threads sending searches, product reads and health checks until stopped; records every outcome."""

    def __init__(self, base: str, clients: int = 3) -> None:
        self.base = base
        self.stop = threading.Event()
        self.failures: list[str] = []
        self.versions: Counter[str] = Counter()
        self.ok = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._loop, args=(i,), daemon=True) for i in range(clients)]

    def _loop(self, i: int) -> None:
        n = i
        with httpx.Client(base_url=self.base, timeout=30, trust_env=False) as c:
            while not self.stop.is_set():
                n += 1
                try:
                    r = c.post("/v1/search", json={"query": QUERIES[n % len(QUERIES)], "limit": 5})
                    if r.status_code != 200:
                        raise AssertionError(f"search {r.status_code} {r.text[:300]}")
                    body: dict[str, Any] = r.json()
                    if n % 3 == 0 and body["results"]:
                        p = c.get(f"/v1/products/{body['results'][0]['doc_id']}")
                        # 404 is a correct answer only if the product left the catalog in the new snapshot.
                        if p.status_code not in (200, 404) or (p.status_code == 404 and
                                                               p.json()["error"]["code"] != "not_found"):
                            raise AssertionError(f"product {p.status_code} {p.text[:300]}")
                    with self.lock:
                        self.ok += 1
                        self.versions[str(body["snapshot"])] += 1
                except Exception as exc:  # every failure is recorded, the stream goes on
                    with self.lock:
                        self.failures.append(repr(exc))

    def __enter__(self) -> Stream:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)


def _health(base: str) -> dict[str, Any]:
    return httpx.get(f"{base}/v1/health", timeout=10, trust_env=False).json()


def _wait_for_version(base: str, version: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while _health(base)["snapshot"]["version"] != version:
        assert time.monotonic() < deadline, f"server did not switch to {version}: {_health(base)}"
        time.sleep(0.1)


@pytest.mark.timeout(300)
def test_queries_keep_succeeding_while_crawl_and_index_switch_snapshots(sample_dir: Path, tmp_path: Path) -> None:
    ws = Workspace.resolve(tmp_path / "home")
    env = {**os.environ, "AISLE_ETSY_API_KEY": ETSY_KEY, "HF_HUB_OFFLINE": "1", "AISLE_HOME": str(ws.home)}
    env.pop("AISLE_API_TOKEN", None)
    with running_storefront(sample_dir) as sf:
        crawl_into(ws, sf)
        assert index_workspace(ws, "hashing-64", "cpu").status == "built"
        port = _free_port()
        server = subprocess.Popen([_aisle(), "serve", "--port", str(port), "--refresh-interval", "0.2",
                                   "--log-level", "warning"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    first = _health(base)["snapshot"]["version"]
                    break
                except httpx.TransportError:
                    assert server.poll() is None, server.stderr.read() if server.stderr else ""
                    assert time.monotonic() < deadline, "aisle serve did not start"
                    time.sleep(0.2)
            crawl_args = ["crawl", *sum((["--shopify", u] for u in sf.shopify_urls.values()), []),
                          *sum((["--etsy", str(i)] for i in sf.etsy_shop_ids.values()), []),
                          "--etsy-api", sf.etsy_api, "--allow-host", "127.0.0.1", "--delay", "0", "--json"]
            versions = [first]
            with Stream(base) as stream:
                time.sleep(0.5)
                for cycle, title in enumerate(("Zephyr quilted tea cosy", "Zephyr knitted tea cosy deluxe")):
                    sf.add_product("shopify", "thames-pottery", {
                        "title": title, "body_html": "<p>Keeps a teapot warm.</p>", "product_type": "Tea cosy",
                        "variants": [{"price": "18.50"}]})
                    _run(crawl_args, env)  # writes catalog.duckdb while the server answers
                    _run(["index", "--model", "hashing-64", "--json", "--no-progress"], env)
                    versions.append(Workspace.resolve(ws.home).indexes_dir.joinpath("CURRENT").read_text().strip())
                    assert versions[-1] != versions[-2], f"cycle {cycle}: no new snapshot"
                    _wait_for_version(base, versions[-1])
                    time.sleep(0.5)  # keep querying on the new snapshot
                    found = httpx.post(f"{base}/v1/search", json={"query": title, "limit": 3}, trust_env=False).json()
                    assert found["snapshot"] == versions[-1]
                    assert title in [r["title"] for r in found["results"]], found["results"]
                fd_dir = Path(f"/proc/{server.pid}/fd")
                fds = _open_files(fd_dir)
            assert not [f for f in fds if "catalog.duckdb" in f], "the server holds the DuckDB catalog open"
            assert stream.failures == [], stream.failures[:5]
            assert stream.ok > 20 and set(versions) <= set(stream.versions), (stream.ok, stream.versions, versions)
            health = _health(base)
            assert health["swaps"] == 2 and health["last_refresh_error"] is None
        finally:
            stop_process(server)


def _open_files(fd_dir: Path) -> list[str]:
    """What a process holds open: its fd links (one closed between the listing and the read is skipped)."""
    files: list[str] = []
    for fd in os.listdir(fd_dir) if fd_dir.is_dir() else []:
        try:
            files.append(os.readlink(fd_dir / fd))
        except FileNotFoundError:  # the server closed it meanwhile (products are read by row, per request)
            continue
    return files


def test_damaged_new_snapshot_keeps_the_old_one_serving(sample_dir: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from search.engine import Engine
    from search.serve.http import create_app
    from tests.search.apiworld import running_api

    ws = Workspace.resolve(tmp_path / "home")
    with running_storefront(sample_dir) as sf:
        crawl_into(ws, sf)
    first = index_workspace(ws, "hashing-64", "cpu").version
    engine = Engine.open(ws)
    app = create_app(ws, engine=engine, refresh_interval=0)  # the test drives the watcher by hand
    watcher = app.state.watcher
    calls = Counter[str]()
    real_refresh = engine.refresh

    def counting_refresh() -> bool:
        calls["refresh"] += 1
        return real_refresh()

    monkeypatch.setattr(engine, "refresh", counting_refresh)
    with running_api(app) as base:
        damaged = index_workspace(ws, "hashing-64", "cpu", full=True).version
        vectors = ws.indexes_dir / str(damaged) / "vectors.npy"
        vectors.chmod(0o644)
        vectors.write_bytes(vectors.read_bytes()[:100])  # truncated: fails the manifest's size check
        assert watcher.check_now() is False and calls["refresh"] == 1
        health = _health(base)
        assert health["snapshot"]["version"] == first and str(damaged) in health["last_refresh_error"]
        assert httpx.post(f"{base}/v1/search", json={"query": "mug"}, trust_env=False).status_code == 200
        assert watcher.check_now() is False and calls["refresh"] == 1  # not reloaded every interval
        good = index_workspace(ws, "hashing-64", "cpu", full=True).version
        assert watcher.check_now() is True
        health = _health(base)
        assert health["snapshot"]["version"] == good and health["swaps"] == 1 and health["last_refresh_error"] is None
