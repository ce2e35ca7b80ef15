"""Per-language stemming (issue 11) on the bundled sample catalog, through the engine in bm25 mode.

The sample's Luna Bebé store writes in Spanish: its products are analysed in Spanish (tagged ``es:`` stems
beside the English terms), a Spanish query is read as Spanish, an English query exactly as before.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from indexer.build.analysis import V1
from indexer.build.language import product_languages
from indexer.build.lexical import LexicalIndex
from indexer.build.text import lexical_text
from search.engine import Engine
from search.query.interpret import read_languages
from search.schema import SearchRequest
from tests.search.conftest import load_catalog, make_engine

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


@pytest.fixture(scope="module")
def catalog() -> tuple[list, list]:
    if not (SAMPLE / "shopify").is_dir():
        pytest.skip("data/sample not generated yet")
    return load_catalog(SAMPLE, shopify_base=lambda slug: f"https://{slug}.example",
                        etsy_api="https://api.example.test/v3/application")


@pytest.fixture(scope="module")
def engine(catalog: tuple[list, list]) -> Engine:
    return make_engine(*catalog)


def _titles(engine: Engine, query: str, n: int = 5) -> list[str]:
    return [r.title for r in engine.search(SearchRequest(query=query, mode="bm25", limit=n)).results]


def test_sample_stores_get_their_language(catalog: tuple[list, list]) -> None:
    products, _ = catalog
    langs = {p.merchant_id.split(".")[0]: lang for p, lang in zip(products, product_languages(products), strict=True)}
    assert langs["luna-bebe"] == "es" and langs["northfield-knits"] == "en"


def test_a_spanish_query_finds_the_spanish_product_by_its_stem(engine: Engine, catalog: tuple[list, list]) -> None:
    assert _titles(engine, "zapatos rojos")[0] == "Zapatos Rojos de Charol para Niño"
    products, _ = catalog
    products = sorted(products, key=lambda p: p.doc_id)
    row = next(i for i, p in enumerate(products) if p.title.startswith("Zapatos Rojos"))
    texts = [lexical_text(p) for p in products]
    new = LexicalIndex.build(texts, langs=product_languages(products))
    assert new.query_languages("zapatos para niña") == ("en", "es")
    assert new.matched_share("zapatos para niña", row) == 1.0  # niña ~ niño (es:nin)
    assert LexicalIndex.build(texts, analyser=V1).matched_share("zapatos para niña", row) == pytest.approx(2 / 3)


def test_an_english_query_finds_english_products_as_before(engine: Engine, catalog: tuple[list, list]) -> None:
    assert "beanie" in _titles(engine, "red wool beanie")[0].lower()
    products, _ = catalog
    products = sorted(products, key=lambda p: p.doc_id)
    texts = [lexical_text(p) for p in products]
    new = LexicalIndex.build(texts, langs=product_languages(products))
    old = LexicalIndex.build(texts, analyser=V1)
    for q in ["red wool beanie", "hiking boots size 10", "ceramic mug", "walnut cutting board", "XL-200"]:
        assert np.array_equal(new.scores(q), old.scores(q)), q


def test_the_answer_says_which_languages_the_words_were_read_in(engine: Engine, catalog: tuple[list, list]) -> None:
    """``interpreted.languages``: the language the words point to first, then English (always read)."""
    assert engine.search(SearchRequest(query="zapatos rojos", mode="bm25")).interpreted.languages == ["es", "en"]
    assert engine.search(SearchRequest(query="red wool beanie")).interpreted.languages == ["en"]
    assert engine.interpret(SearchRequest(query="zapatos para niña")).languages == ("es", "en")
    browse = SearchRequest(query="", filters={"merchant": [catalog[0][0].merchant_id]})
    assert engine.search(browse).interpreted.languages == []  # no words to rank by: nothing read
    by_colour = SearchRequest(query="", filters={"attributes": {"color": ["rojo"]}})
    assert engine.search(by_colour).interpreted.languages  # a filter's words rank too: they are read
    items = engine.search(SearchRequest(query="zapatos rojos and a red wool beanie", mode="bm25")).items
    if items:  # several items: each says its own reading
        assert [i.interpreted.languages for i in items] == [["es", "en"], ["en"]]
    products, _ = catalog
    texts = [lexical_text(p) for p in sorted(products, key=lambda p: p.doc_id)]
    it = engine.interpret(SearchRequest(query="zapatos rojos"))
    assert read_languages(it, LexicalIndex.build(texts, analyser=V1)).languages == ("en",)  # an aisle-v1 snapshot
