"""Explanations, highlights and buyable_first through Engine.search (search.answer.present)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from indexer.build.embed import load_encoder
from indexer.build.index import build_index
from indexer.workspace import Workspace
from search.engine import Engine, EngineSettings
from search.query.highlight import mark, marked_words, snippet
from search.schema import Filters, PriceFilter, SearchRequest
from tests.search.conftest import load_catalog, make_engine, merchant, product, variant


@pytest.fixture(scope="module")
def shop() -> Engine:
    m = merchant()
    ps = [
        product("Red Wool Beanie", [variant({"Color": "Red", "Size": "M"}, price=3000, available=False),
                                    variant({"Color": "Red", "Size": "L"}, price=2500),
                                    variant({"Color": "Blue", "Size": "M"}, price=2000)], m=m),
        product("Wool Beanie Classic", [variant({"Color": "Red", "Size": "M"}, price=2000)], m=m),
        product("Cotton Scarf", [variant({"Color": "Red"}, price=1500)], m=m),
    ]
    return make_engine(ps, [m], settings=EngineSettings(kind_threshold=None))


def test_explain_gives_scores_constraints_and_the_variant_reason(shop: Engine) -> None:
    resp = shop.search(SearchRequest(query="red wool beanie", explain=True, include_near=True,
                                     filters=Filters(attributes={"size": ["M"]}, price=PriceFilter(max=2800))))
    assert resp.results
    for r in resp.results:
        e = r.explain
        assert e is not None and e.lexical is not None and e.dense is not None
        assert e.score == pytest.approx(r.score) and e.variant_reason
        assert set(e.unmet) == set(r.match.unmet)
        if r.match.exact:
            assert set(e.met) >= {"size", "price"} and not e.unmet
        else:
            assert e.unmet and not set(e.met) & set(e.unmet)
    near = [r for r in resp.results if not r.match.exact]
    assert any("fewest" in r.explain.variant_reason for r in near if r.explain)  # type: ignore[union-attr]
    plain = shop.search(SearchRequest(query="red wool beanie"))
    assert all(r.explain is None and r.highlight is None for r in plain.results)


def test_explain_in_bm25_mode_has_no_dense_score(shop: Engine) -> None:
    resp = shop.search(SearchRequest(query="wool beanie", explain=True, mode="bm25"))
    assert all(r.explain and r.explain.dense is None and r.explain.lexical for r in resp.results)


def test_highlight_marks_query_words_in_plain_text(shop: Engine) -> None:
    resp = shop.search(SearchRequest(query="red wool beanies", highlight=True))
    top = resp.results[0]
    assert top.highlight is not None
    assert "[[Wool]]" in top.highlight.title and "[[Beanie]]" in top.highlight.title  # plural matches singular
    dumped = top.model_dump(mode="json")
    assert "_highlight" in dumped and "<" not in str(dumped["_highlight"])


def test_highlight_helpers() -> None:
    stems = marked_words(["a cosy wool hat for me"])
    assert mark("Wool hats & <b>caps</b>", stems) == "[[Wool]] [[hats]] & <b>caps</b>"
    long = "word " * 200 + "a wool hat " + "word " * 200
    cut = snippet(long, stems)
    assert cut.startswith("…") and cut.endswith("…") and "[[wool]]" in cut and len(cut) < 300
    assert mark("anything", frozenset()) == "anything"


def test_buyable_first_prefers_a_buyable_variant_and_can_be_switched_off(shop: Engine) -> None:
    on = shop.search(SearchRequest(query="red wool beanie", filters=Filters(attributes={"color": ["red"]})))
    top = next(r for r in on.results if r.title == "Red Wool Beanie")
    assert top.buy.eligible and top.variant.options["Size"] == "L"  # the in-stock red variant
    off = shop.search(SearchRequest(query="red wool beanie", buyable_first=False,
                                    filters=Filters(attributes={"color": ["red"]})))
    assert {r.doc_id for r in off.results} == {r.doc_id for r in on.results}


# --- the demo's case with the real model --------------------------------------------------------


@pytest.fixture(scope="module")
def sample(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    products, merchants = load_catalog(sample_dir, shopify_base=lambda s: f"https://{s}.example",
                                       etsy_api="https://openapi.etsy.com/v3/application")
    ws = Workspace.resolve(tmp_path_factory.mktemp("present-home"))
    now = datetime.now(UTC).isoformat()
    build_index(products, merchants, ws, encoder=load_encoder(), crawled_at={p.doc_id: now for p in products},
                watermark="sample")
    return Engine.open(ws)


@pytest.mark.slow
def test_red_wool_beanie_size_m_puts_an_in_stock_beanie_before_the_out_of_stock_cap(sample: Engine) -> None:
    q = "red wool beanie size M"
    on = [r.title for r in sample.search(SearchRequest(query=q, limit=10)).results]
    off = [r.title for r in sample.search(SearchRequest(query=q, limit=10, buyable_first=False)).results]
    cap, beanie = "Heritage Wool Watch Cap", "Classic Merino Wool Beanie"
    assert off.index(cap) < off.index(beanie)  # relevance alone: the out-of-stock cap first
    assert on.index(beanie) < on.index(cap)  # similar relevance: the buyable beanie first
    assert on[0] == off[0]  # a clearly more relevant result keeps its place
    resp = sample.search(SearchRequest(query=q, limit=10, explain=True))
    moved = next(r for r in resp.results if r.title == beanie)
    assert moved.explain is not None and any("buyable_first" in o for o in moved.explain.order)
