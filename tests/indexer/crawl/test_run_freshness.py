"""Freshness: a re-crawl that finds nothing changed still moves the catalog watermark, so the next
``aisle index`` publishes a snapshot whose ``crawled_at`` times are the re-crawl's (all vectors from the
embedding cache), instead of reporting "unchanged" and letting every result go ``stale_data``."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from indexer.build.index import index_workspace
from indexer.build.snapshot import load_current
from indexer.crawl.run import crawl
from indexer.store.store import Store
from indexer.storefront import running_storefront
from indexer.workspace import Workspace
from tests.indexer.crawl_helpers import all_targets, fast_settings, make_catalog


def _crawl(ws: Workspace, sf: object) -> None:
    with Store.open(ws.catalog_db) as store:
        report = crawl(all_targets(sf), store, settings=fast_settings(sf))
    assert report.complete, report.to_dict()


def _next_second() -> None:
    """Sleep into the next wall-clock second (``crawled_at`` has one-second resolution)."""
    time.sleep(1.0 - time.time() % 1.0 + 0.05)


@pytest.mark.slow
def test_unchanged_recrawl_refreshes_crawled_at_without_embedding(shared_dir: Path, tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path / "catalog", shared_dir, shopify=("analemma",), etsy=("kalima-arts",))
    ws = Workspace.resolve(tmp_path / "home")
    with running_storefront(catalog) as sf:
        _crawl(ws, sf)
        first = index_workspace(ws, device="cpu")  # the real model
        assert first.status == "built" and first.embedded == first.products > 40
        before = dict(load_current(ws).crawled_at)
        assert len(before) == first.products

        _next_second()
        with Store.open(ws.catalog_db) as store:
            report = crawl(all_targets(sf), store, settings=fast_settings(sf))
        assert report.complete and all(m.new == m.changed == m.removed == 0 for m in report.merchants)

    second = index_workspace(ws, device="cpu")
    assert second.status == "built" and second.version != first.version
    assert (second.embedded, second.reused) == (0, second.products)
    assert (second.added, second.changed, second.removed, second.products) == (0, 0, 0, first.products)
    after = load_current(ws).crawled_at
    assert set(after) == set(before)
    assert all(after[d] > before[d] for d in before), "every crawled_at is the re-crawl's"
    assert index_workspace(ws, device="cpu").status == "unchanged"  # no crawl since: nothing to do
