"""Composite options (issue 11): ``Color / Style`` = ``Black / T-Shirt`` is colour black AND style t-shirt for
the filter postings, the per-variant check (near matches), facets, the vocabulary and a snapshot on disk built
before the rule (its columns are derived again; ``aisle index`` rebuilds it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.build.embed import HashingEncoder
from indexer.build.index import build_index, unchanged_manifest
from indexer.build.snapshot import current_version, load_current
from indexer.build.vocabulary import Vocabulary
from indexer.workspace import Workspace
from search.engine import Engine
from search.filter.columns import columns_dir
from search.schema import Filters, SearchRequest
from tests.search.conftest import NOW, make_engine, merchant, product, variant

M = merchant()


def _catalog() -> list:  # type: ignore[type-arg]
    tee = product("Queen Nefertiti Graphic T-Shirt", [
        variant({"Size": "M", "Color / Style": "Black / T-Shirt"}, price=1900, vid="tee-m-black"),
        variant({"Size": "M", "Color / Style": "White / T-Shirt"}, price=1900, vid="tee-m-white"),
        variant({"Size": "L", "Color / Style": "Black / Hoodie"}, price=3900, vid="hoodie-l-black"),
    ], m=M, pid="101")
    decoy = product("Plain Black Shirt", [variant({"Color": "Black", "Size": "M"}, price=1500, vid="plain")],
                    m=M, pid="102")
    group = product("Espresso Machine", [variant({"Group/Version": "2 White"}, price=99000, vid="espresso")],
                    m=M, pid="103")
    return [tee, decoy, group]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return make_engine(_catalog(), [M])


def _exact(eng: Engine, **attrs: list[str]) -> list[tuple[str, str]]:
    resp = eng.search(SearchRequest(query="shirt", filters=Filters(attributes=attrs), limit=10))
    return sorted((r.doc_id.rsplit(":", 1)[1], r.variant.id) for r in resp.results if r.match.exact)


def test_each_part_filters_as_its_own_attribute(engine: Engine) -> None:
    assert _exact(engine, color=["black"], size=["M"]) == [("101", "tee-m-black"), ("102", "plain")]
    assert _exact(engine, color=["black"], style=["t-shirt"], size=["M"]) == [("101", "tee-m-black")]
    assert _exact(engine, style=["hoodie"]) == [("101", "hoodie-l-black")]
    assert _exact(engine, color=["white"]) == [("101", "tee-m-white")]
    # a colour is no style any more (the plain shirt has no style option: its title says black, the text fallback)
    assert _exact(engine, style=["black"]) == [("102", "plain")]


def test_near_match_names_no_colour_miss(engine: Engine) -> None:
    resp = engine.search(SearchRequest(query="nefertiti tee", limit=10, include_near=True,
                                       filters=Filters(attributes={"color": ["black"], "size": ["L"]})))
    hit = next(r for r in resp.results if r.doc_id.endswith(":101"))
    assert hit.match.exact and hit.variant.id == "hoodie-l-black"
    assert hit.variant.options == {"Size": "L", "Color / Style": "Black / Hoodie"}  # shown as the merchant wrote


def test_facets_and_vocabulary_read_the_parts(engine: Engine) -> None:
    resp = engine.search(SearchRequest(query="shirt", facets=["color"], limit=10))
    assert {f.value.lower() for f in resp.facets["color"]} >= {"black", "white"}
    vocab = Vocabulary.build(_catalog())
    assert "black" in vocab.values("color") and "t-shirt" in vocab.values("style")
    assert "black" not in vocab.values("style") and "black / t-shirt" not in vocab.values("style")
    assert vocab.values("group/version") == {"2 white": 1}  # no known attribute in the name: kept as it was


def test_a_snapshot_built_before_the_rule(tmp_path: Path) -> None:
    """Columns derived by the old rules are derived again at open; `aisle index` rebuilds such a snapshot."""
    ws = Workspace.resolve(tmp_path / "home")
    enc = HashingEncoder(32)
    products = _catalog()
    build_index(products, [M], ws, encoder=enc, crawled_at={p.doc_id: "2027-01-15T08:00:00Z" for p in products},
                watermark="w1")
    Engine.open(ws, encoder=enc)  # writes the columns
    snap = load_current(ws)
    assert unchanged_manifest(ws, enc.name, "w1") is not None
    manifest_path = ws.indexes_dir / str(current_version(ws)) / "manifest.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    assert manifest["attribute_rules"] == "2"
    del manifest["attribute_rules"]  # as written before composite options were split
    manifest_path.write_text(json.dumps(manifest), "utf-8")
    assert unchanged_manifest(ws, enc.name, "w1") is None  # the next `aisle index` builds
    meta_path = columns_dir(snap) / "columns.json"
    meta = json.loads(meta_path.read_text("utf-8"))
    meta.pop("attribute_rules")
    meta_path.write_text(json.dumps(meta), "utf-8")
    eng = Engine.open(ws, encoder=enc)
    eng._clock = lambda: NOW
    assert json.loads(meta_path.read_text("utf-8"))["attribute_rules"] == "2"  # derived again
    assert _exact(eng, color=["black"], style=["t-shirt"]) == [("101", "tee-m-black")]
