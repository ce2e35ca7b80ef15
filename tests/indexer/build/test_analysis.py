"""Per-language analysis (issue 11): Snowball stems per language, tagged stems, product languages, old indexes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from indexer.build.analysis import ANALYSER, V1, analyse, stem, tagged, tokenize
from indexer.build.language import evidence, product_languages
from indexer.build.lexical import LexicalIndex
from tests.search.conftest import merchant, product, variant


@pytest.mark.parametrize(("lang", "words", "common"), [
    ("en", ["shoes", "shoe"], "shoe"),
    ("es", ["zapatos", "zapato"], "zapat"),
    ("es", ["rojos", "rojas", "roja"], "roj"),
    ("pt", ["cortadores", "cortador"], "cortador"),
    ("fr", ["jardins", "jardin"], "jardin"),
    ("de", ["flaschen", "flasche"], "flasch"),
    ("ro", ["biscuiti", "biscuit"], "biscuit"),
])
def test_snowball_stems_per_language(lang: str, words: list[str], common: str) -> None:
    assert {stem(w, lang) for w in words} == {common}


def test_other_languages_add_tagged_stems_and_keep_the_english_terms() -> None:
    assert tokenize("Zapatillas rojas de piel, talla 38, XL-200 Nike", "es") == [
        "zapatilla", "es:zapatill", "roja", "es:roj", "de", "piel", "es:piel", "talla", "es:tall", "38",
        "xl-200", "xl200", "xl", "200", "nike", "es:nik"]
    # English text: exactly the terms of aisle-v1 (no tag), codes and brands unstemmed
    assert tokenize("Red wool beanies XL-200 500ml") == ["red", "wool", "beani", "xl-200", "xl200", "xl", "200",
                                                         "500ml", "500", "ml"]
    assert tagged("los", "es") is None and tagged("sac", "fr") is None and tagged("shoes", "en") is None
    assert analyse("zapatos rojos", ("en", "es")) == [("zapato", "es:zapat"), ("rojo", "es:roj")]


def test_product_language_is_the_stores_unless_its_own_is_clear() -> None:
    es, en = merchant("es-shop.myshopify.com"), merchant("en-shop.myshopify.com")
    desc = "Zapatillas de lona para el bebé, con cierre de velcro y suela de goma para los primeros pasos."
    ps = [product("Zapatillas Rojas", [variant()], m=es, tags=["calzado"]),
          product("Gorro", [variant()], m=es),
          product("Red wool beanie", [variant()], m=en),
          product("Bonnet", [variant()], m=en)]
    ps[0] = dataclasses.replace(ps[0], body_text=desc)
    assert product_languages(ps) == ["es", "es", "en", "en"]  # "Gorro" alone says nothing: its store's
    assert evidence("une écharpe pour le jardin et les enfants").argmax() == 3  # fr
    assert evidence("Ohrringe für meine Tochter, sie spielt im Verein").argmax() == 4  # de


def _index(analyser: str = ANALYSER) -> LexicalIndex:
    texts = ["Zapatillas Rojas de Lona para Bebé, para los primeros pasos", "Red canvas shoes for toddlers",
             "Tap and tape dispenser, stainless", "Cinta washi decorativa con tapa"]
    return LexicalIndex.build(texts, langs=["es", "en", "en", "es"], analyser=analyser)


def test_a_spanish_query_finds_the_spanish_product_by_its_stem() -> None:
    index = _index()
    assert index.query_languages("zapatos rojos") == ("en", "es")
    rows, _ = index.search("zapatos rojos", 5)
    assert rows.tolist() == [0]  # rojos ~ rojas (es:roj); aisle-v1 has roja != rojo
    assert _index(V1).search("zapatos rojos", 5)[0].tolist() == []
    assert index.coverage("zapatos rojos") == 0.5  # zapato/es:zapat unknown, rojo/es:roj known: a word counts once


def test_an_english_query_scores_as_before() -> None:
    new, old = _index(), _index(V1)
    for q in ["red shoes", "tape dispenser", "shoes for toddlers"]:
        assert new.query_languages(q) == ("en",)
        assert np.array_equal(new.scores(q), old.scores(q)), q  # same terms, df and document lengths


def test_an_index_written_before_per_language_analysis_reads_as_before(tmp_path: Path) -> None:
    old = _index(V1)
    old.save(tmp_path / "lex")
    meta = json.loads((tmp_path / "lex" / "rows.json").read_text("utf-8"))
    assert "analyser" not in meta and not (tmp_path / "lex" / "lang_df.npy").exists()  # as aisle-v1 wrote it
    back = LexicalIndex.load(tmp_path / "lex")
    assert back.analyser == V1 and back.params["tokenizer"] == V1
    assert back.query_languages("zapatos rojos") == ("en",)
    for q in ["zapatos rojos", "red shoes", "cinta washi"]:
        assert np.array_equal(back.scores(q), old.scores(q))
    new = _index()
    new.save(tmp_path / "new")
    again = LexicalIndex.load(tmp_path / "new")
    assert again.analyser == ANALYSER and again.params["languages"] == {"en": 2, "es": 2}
    assert np.array_equal(again.scores("zapatos rojos"), new.scores("zapatos rojos"))
    reader = LexicalIndex.reader(tmp_path / "new")  # a shard coordinator's: no postings, same query reading
    assert len(reader) == 0 and reader.query_groups("zapatos rojos") == again.query_groups("zapatos rojos")
    assert LexicalIndex.reader(tmp_path / "lex").query_languages("zapatos rojos") == ("en",)
    shard = again.subset(np.array([0]))  # a shard reads query languages as the whole index does
    assert shard.query_languages("zapatos rojos") == ("en", "es")
    assert shard.search("zapatos rojos", 5)[0].tolist() == [0]


def test_a_snapshot_of_another_analyser_is_rebuilt_from_the_cache(tmp_path: Path, small_catalog) -> None:
    from indexer.build.embed import HashingEncoder
    from indexer.build.index import build_index
    from indexer.build.snapshot import current_version, load_current
    from indexer.workspace import Workspace

    merchants, products = small_catalog
    ws = Workspace.resolve(tmp_path / "home")
    enc = HashingEncoder(64)
    first = build_index(products, merchants, ws, encoder=enc, crawled_at={}, watermark="w1")
    manifest_path = ws.indexes_dir / str(current_version(ws)) / "manifest.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    assert manifest["lexical"]["tokenizer"] == ANALYSER and sum(manifest["lexical"]["languages"].values()) == len(
        products)
    assert build_index(products, merchants, ws, encoder=enc, crawled_at={}, watermark="w1").status == "unchanged"
    manifest["lexical"]["tokenizer"] = V1  # as a snapshot built before per-language analysis records it
    manifest_path.write_text(json.dumps(manifest), "utf-8")
    again = build_index(products, merchants, ws, encoder=enc, crawled_at={}, watermark="w1")
    assert again.status == "built" and again.embedded == 0 and again.previous_version == first.version
    assert load_current(ws).manifest["lexical"]["tokenizer"] == ANALYSER
