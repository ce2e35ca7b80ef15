"""Issue 12, item 2: a store cannot take over another merchant's identity.

Two stores on a real loopback simulator: ``northfield-knits`` (the real merchant) and ``impostor``, another
catalog whose ``meta.json`` declares ``myshopify_domain: northfield-knits.myshopify.com``. Crawled after
the real one, the impostor is refused (``identity_conflict``) and nothing of the real merchant changes;
the operator can link a moved store explicitly (merchants-file entry or ``aisle merchants link``).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from indexer.crawl.run import crawl
from indexer.crawl.targets import Target, parse_line
from indexer.store.identity import normalise_origin
from indexer.store.store import Store
from indexer.storefront import running_storefront
from tests.indexer.crawl_helpers import fast_settings

REAL = "northfield-knits.myshopify.com"


@pytest.fixture(scope="module")
def two_stores(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("identity")
    shutil.copytree(sample_dir / "shopify" / "northfield-knits", root / "shopify" / "northfield-knits")
    shutil.copytree(sample_dir / "shopify" / "thames-pottery", root / "shopify" / "impostor")
    meta_path = root / "shopify" / "impostor" / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta.update(myshopify_domain=REAL, name="Totally Northfield Knits")
    meta_path.write_text(json.dumps(meta))
    with running_storefront(root) as sf:
        yield sf


def _state(store: Store) -> dict[str, Any]:
    return {
        "merchant": store.query("SELECT name, base_url, origin FROM merchants WHERE merchant_id = ?", [REAL]),
        "live": store.query("SELECT count(*) FROM products WHERE merchant_id = ? AND removed_at IS NULL", [REAL]),
        "removed": store.query("SELECT count(*) FROM products WHERE removed_at IS NOT NULL"),
        "urls": store.query("SELECT DISTINCT split_part(url, '/products/', 1) FROM products"),
    }


def _conflicts(store: Store) -> list[tuple[Any, ...]]:
    return store.query("SELECT merchant_id, target, code FROM crawl_errors WHERE code = 'identity_conflict'")


def test_an_impostor_claiming_a_known_merchant_is_refused_and_changes_nothing(two_stores: Any, tmp_path: Path) -> None:
    sf = two_stores
    real, fake = sf.shopify_url("northfield-knits"), sf.shopify_url("impostor")
    with Store.open(tmp_path / "c.duckdb") as store:
        first = crawl([Target.shopify(real)], store, settings=fast_settings(sf))
        assert first.complete
        before = _state(store)
        assert before["merchant"][0][2] == normalise_origin(real) and before["live"][0][0] > 70
        watermark = store.watermark()
        report = crawl([Target.shopify(fake)], store, settings=fast_settings(sf))
        (m,) = report.merchants
        assert not m.complete and m.products == 0 and m.removed == 0 and m.merchant_id is None
        assert _conflicts(store) == [(REAL, fake, "identity_conflict")]
        assert _state(store) == before and store.watermark() == watermark
        # The real store crawled again in the same run as the impostor: it is fine, the impostor is not.
        again = crawl([Target.shopify(fake), Target.shopify(real)], store, settings=fast_settings(sf))
        assert [r.complete for r in again.merchants] == [False, True]
        assert _state(store) == before and len(_conflicts(store)) == 2


def test_first_crawl_with_both_binds_the_id_to_one_origin_only(two_stores: Any, tmp_path: Path) -> None:
    sf = two_stores
    with Store.open(tmp_path / "c.duckdb") as store:
        crawl([Target.shopify(sf.shopify_url("northfield-knits")), Target.shopify(sf.shopify_url("impostor"))],
              store, settings=fast_settings(sf))
        assert len(_conflicts(store)) == 1
        assert len(_state(store)["urls"]) == 1 and _state(store)["removed"] == [(0,)]


def test_the_operator_links_a_moved_store_explicitly(two_stores: Any, tmp_path: Path) -> None:
    sf = two_stores
    real, fake = sf.shopify_url("northfield-knits"), sf.shopify_url("impostor")
    home = tmp_path / "home"
    with Store.open(home / "catalog.duckdb") as store:
        crawl([Target.shopify(real)], store, settings=fast_settings(sf))
    from cli.main import _register_commands, app

    _register_commands()
    out = CliRunner().invoke(app, ["--home", str(home), "merchants", "link", REAL, fake + "/", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["links"] == [normalise_origin(fake)]
    with Store.open(home / "catalog.duckdb") as store:
        report = crawl([Target.shopify(fake)], store, settings=fast_settings(sf))
        assert report.complete and not _conflicts(store)
        state = _state(store)
        # The linked store now speaks for the merchant; its first origin stays on record.
        assert state["merchant"][0][:2] == ("Totally Northfield Knits", fake)
        assert state["merchant"][0][2] == normalise_origin(real)
    bad = CliRunner().invoke(app, ["--home", str(home), "merchants", "link", "nobody.myshopify.com", fake])
    assert bad.exit_code != 0


def test_a_merchants_file_entry_links_too_and_a_wrong_one_refuses(two_stores: Any, tmp_path: Path) -> None:
    sf = two_stores
    real, fake = sf.shopify_url("northfield-knits"), sf.shopify_url("impostor")
    linked = parse_line(json.dumps({"shopify": fake, "merchant_id": REAL}))
    wrong = parse_line(json.dumps({"shopify": real, "merchant_id": "someone-else.myshopify.com"}))
    assert linked is not None and wrong is not None and linked.merchant_id == REAL
    with Store.open(tmp_path / "c.duckdb") as store:
        crawl([Target.shopify(real)], store, settings=fast_settings(sf))
        before = _state(store)
        refused = crawl([wrong], store, settings=fast_settings(sf))
        assert not refused.complete and _state(store) == before and len(_conflicts(store)) == 1
        assert crawl([linked], store, settings=fast_settings(sf)).complete
        assert store.merchant_links(REAL) == [normalise_origin(fake)]


@pytest.mark.parametrize(("url", "origin"), [
    ("HTTPS://Shop.Example:443/", "https://shop.example"),
    ("http://127.0.0.1:8765/shopify/a/", "http://127.0.0.1:8765/shopify/a"),
    ("http://[::1]:80/x?q=1", "http://[::1]/x"),
])
def test_origins_are_normalised(url: str, origin: str) -> None:
    assert normalise_origin(url) == origin
