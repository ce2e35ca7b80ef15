"""Freshness: a re-crawl that finds nothing changed still moves the catalog watermark, so the next
``aisle index`` publishes a snapshot whose ``crawled_at`` times are the re-crawl's (all vectors from the
embedding cache), instead of reporting "unchanged" and letting every result go ``stale_data``."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.build.index import index_workspace
from indexer.build.snapshot import load_current
from indexer.crawl.run import CrawlReport, crawl
from indexer.store.store import Store
from indexer.storefront import running_storefront
from indexer.workspace import Workspace
from tests.indexer.crawl_helpers import all_targets, fast_settings, make_catalog
from tests.indexer.fakeclock import FakeClock


def _crawl(ws: Workspace, sf: object, clock: FakeClock) -> CrawlReport:
    with Store.open(ws.catalog_db, clock=clock) as store:
        report = crawl(all_targets(sf), store, settings=fast_settings(sf))
    assert report.complete, report.to_dict()
    return report


@pytest.mark.slow
def test_unchanged_recrawl_refreshes_crawled_at_without_embedding(shared_dir: Path, tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path / "catalog", shared_dir, shopify=("analemma",), etsy=("kalima-arts",))
    ws = Workspace.resolve(tmp_path / "home")
    with running_storefront(catalog) as sf:
        clock = FakeClock()
        _crawl(ws, sf, clock)
        first = index_workspace(ws, device="cpu")  # the real model
        assert first.status == "built" and first.embedded == first.products > 40
        before = dict(load_current(ws).crawled_at)
        assert len(before) == first.products

        clock.advance(1.0)  # crawled_at has one-second resolution
        report = _crawl(ws, sf, clock)
        assert all(m.new == m.changed == m.removed == 0 for m in report.merchants)

    second = index_workspace(ws, device="cpu")
    assert second.status == "built" and second.version != first.version
    assert (second.embedded, second.reused) == (0, second.products)
    assert (second.added, second.changed, second.removed, second.products) == (0, 0, 0, first.products)
    after = load_current(ws).crawled_at
    assert set(after) == set(before)
    assert all(after[d] > before[d] for d in before), "every crawled_at is the re-crawl's"
    assert index_workspace(ws, device="cpu").status == "unchanged"  # no crawl since: nothing to do
