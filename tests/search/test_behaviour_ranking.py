"""Behaviour of ranking (issue 11 items 4 and 5): exact results are the kind of product asked for, and
near matches are ordered by how much they miss.

Fast cases use the hashing encoder with the floor's semantic check off (``kind_threshold=1.0``: lexical
only); one case runs the real MiniLM model on the bundled sample catalog (marked slow).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from search.engine import Engine, EngineSettings
from search.schema import Filters, SearchRequest
from tests.search.conftest import make_engine, merchant, product, variant

LEXICAL_ONLY = EngineSettings(kind_threshold=1.0, stale_ttl_s=None)


def _shop() -> Engine:
    m = merchant("bergwerk.myshopify.com", currency="EUR", ships_to=("DE", "AT"))
    items = [
        product("Alpine Backpack 30L", [variant(price=15000, currency="EUR")], m=m, vendor="Acme",
                product_type="Backpacks"),
        product("Wool Hat", [variant(price=4000, currency="EUR")], m=m, vendor="Bergwerk", product_type="Hats"),
        product("Knit Headband", [variant(price=2000, currency="EUR")], m=m, vendor="Bergwerk",
                product_type="Hats"),
    ]
    return make_engine(items, [m], settings=LEXICAL_ONLY)


def _ask(engine: Engine, query: str, *, near: bool, **kw: object) -> list[tuple[str, bool, list[str]]]:
    resp = engine.search(SearchRequest(query=query, include_near=near, limit=20,
                                       filters=Filters(vendor=["Bergwerk"]), **kw))
    return [(r.title, r.match.exact, list(r.match.unmet)) for r in resp.results]


def test_products_that_only_meet_the_filters_are_not_exact_results() -> None:
    engine = _shop()
    assert _ask(engine, "backpack", near=False) == []  # the hats meet the vendor filter, but are not backpacks


def test_near_matches_show_the_right_kind_first_and_flag_the_wrong_kind() -> None:
    out = _ask(_shop(), "backpack", near=True)
    assert out[0] == ("Alpine Backpack 30L", False, ["vendor"])
    assert {t for t, _, _ in out[1:]} == {"Wool Hat", "Knit Headband"}
    assert all(not exact and "product_kind" in unmet for _, exact, unmet in out[1:])


def test_an_exact_result_of_the_right_kind_stays_exact() -> None:
    out = _ask(_shop(), "hat", near=False)
    assert ("Wool Hat", True, []) in out and all(exact for _, exact, _ in out)


def test_near_matches_missing_fewer_constraints_come_first() -> None:
    m = merchant()
    far = [product(f"Wool Beanie {i}", [variant({"Color": "Blue", "Size": "L"}, price=3000)], m=m)
           for i in range(4)]
    close = product("Beanie", [variant({"Color": "Blue", "Size": "M"}, price=3000)], m=m)
    engine = make_engine([*far, close], [m], settings=LEXICAL_ONLY)
    resp = engine.search(SearchRequest(query="wool beanie", include_near=True, limit=10,
                                       filters=Filters(attributes={"color": ["red"], "size": ["M"]})))
    assert [r.title for r in resp.results][0] == "Beanie"
    assert [len(r.match.unmet) for r in resp.results] == [1, 2, 2, 2, 2]


@pytest.mark.slow
def test_real_model_exact_backpacks_are_backpacks(sample_engine_ranking: Engine) -> None:
    resp = sample_engine_ranking.search(SearchRequest(query="Bergwerk backpack under €100 shipped to Germany",
                                                      include_near=True, limit=20))
    exact = [r.title for r in resp.results if r.match.exact]
    assert all("rucksack" in t.lower() for t in exact), exact
    hats = [r for r in resp.results if "mütze" in r.title.lower() or "stirnband" in r.title.lower()]
    assert all(not r.match.exact for r in hats)


@pytest.fixture(scope="module")
def sample_engine_ranking(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    from indexer.build.embed import load_encoder
    from indexer.build.index import build_index
    from indexer.workspace import Workspace
    from tests.search.conftest import load_catalog
    from tests.search.test_engine import _now_iso

    products, merchants = load_catalog(sample_dir, shopify_base=lambda s: f"https://{s}.example",
                                       etsy_api="https://openapi.etsy.com/v3/application")
    ws = Workspace.resolve(tmp_path_factory.mktemp("ranking-home"))
    build_index(products, merchants, ws, encoder=load_encoder(), crawled_at={p.doc_id: _now_iso() for p in products},
                watermark="sample")
    return Engine.open(ws, settings=EngineSettings(stale_ttl_s=None))
