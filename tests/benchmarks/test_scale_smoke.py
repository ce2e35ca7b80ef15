"""CI smoke run of ``benchmarks/scale.py``: a 2,000-product catalog, correctness only (never a time).

The dense index threshold is lowered so that aisle builds its large-catalog (approximate) index even at
this size: the filtered-retrieval strategy for big catalogs is what this guards. Vectors come from the
hashing encoder (no model). LanceDB rows are checked only when lancedb (the ``bench`` extra) is installed.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

CATALOGS = Path(__file__).resolve().parents[2] / ".." / "shared" / "catalogs"
SELECTIVITIES = (1.0, 0.1, 0.01, 0.001)
ROW_KEYS = {"engine", "mode", "size", "selectivity", "p50_ms", "p95_ms", "p99_ms", "retrieval_p50_ms",
            "recall_at_10", "build_s", "peak_rss_mb"}

pytestmark = pytest.mark.skipif(not CATALOGS.is_dir(), reason="../shared/catalogs is not available")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from benchmarks.scale import markdown, markdown_summary, run_benchmark, summary

    rep = run_benchmark([2000], n_queries=24, source="hashing", cache=tmp_path_factory.mktemp("scale"),
                        inline=True, exact_max_rows=500, log=lambda *_: None)
    assert markdown(rep).count("\n") > len(rep["rows"])
    rep["summary"] = summary(rep)
    assert len(rep["summary"]) == len(SELECTIVITIES)
    assert markdown_summary(rep).count("\n") == len(SELECTIVITIES) + 2
    return rep


def _engines() -> set[str]:
    engines = {"aisle", "faiss-flat-postfilter"}
    if importlib.util.find_spec("lancedb") is not None:
        engines.add("lancedb")
    return engines


def test_rows_for_every_engine_and_selectivity(report: dict) -> None:
    rows = report["rows"]
    for row in rows:
        assert ROW_KEYS <= set(row)
        assert row["size"] == 2000
    for engine in _engines():
        got = {r["selectivity"] for r in rows if r["engine"] == engine and r["mode"] in ("dense", "vector")}
        assert got == set(SELECTIVITIES), engine
    assert {r["engine"] for r in rows} == _engines()


def test_aisle_recall_at_every_selectivity(report: dict) -> None:
    aisle = [r for r in report["rows"] if r["engine"] == "aisle" and r["mode"] == "dense"]
    assert len(aisle) == len(SELECTIVITIES)
    for r in aisle:
        assert r["recall_at_10"] >= 0.95, r  # end to end, through Engine.search
        assert r["retrieval_recall_at_10"] >= 0.95, r  # filtered retrieval alone
        assert r["engine_recall_at_10"] >= 0.95, r  # against the same engine with exact vector search
        assert r["params"]["type"] != "IndexFlatIP"  # the approximate index was really exercised
        assert r["p50_ms"] is not None and r["retrieval_p50_ms"] is not None


def test_summary_compares_like_with_like(report: dict) -> None:
    for s in report["summary"]:
        assert s["aisle_retrieval_recall_at_10"] >= 0.95
        assert s["faiss_flat_p50_ms"] is not None and s["faiss_flat_over_aisle"] is not None
        if "lancedb" in _engines():
            assert s["lancedb_p50_ms"] is not None


def test_exact_peer_is_exact(report: dict) -> None:
    for r in report["rows"]:
        if r["engine"] == "faiss-flat-postfilter":
            assert r["recall_at_10"] >= 0.99, r


def test_answer_recall_counts_identical_copies_not_buyability_swaps() -> None:
    from benchmarks.scale_common import answer_recall

    truth = [(1, 0.9, True), (2, 0.8, True), (3, 0.8, False)]
    assert answer_recall(truth, truth, 3) == 1.0
    assert answer_recall([(1, 0.9, True), (7, 0.8, True), (3, 0.8, False)], truth, 3) == 1.0  # a copy of row 2
    assert answer_recall([(1, 0.9, True), (2, 0.8, True), (8, 0.8, True)], truth, 3) == 2 / 3  # buyable for not
    assert answer_recall([(1, 0.9, True), (2, 0.8, True), (9, 0.7, False)], truth, 3) == 2 / 3
    assert answer_recall([], [], 3) == 1.0 and answer_recall([], truth, 3) == 0.0


def test_recall_breakdown_of_one_query() -> None:
    import numpy as np

    from benchmarks.scale_recall import one_query
    from tests.search.conftest import make_engine, merchant, product, variant

    m = merchant()
    ps = [product(f"wool beanie {i}", [variant(available=bool(i % 2))], m=m) for i in range(30)]
    eng = make_engine(ps, [m])
    got = one_query(eng, eng.with_dense(None), np.asarray(eng.snapshot.vectors), "wool beanie", [])
    assert got is not None and set(got["recall"]) == {"default", "no_buyable_first", "retrieval", "engine_exact"}
    assert got["recall"]["retrieval"] == 1.0 and got["recall"]["engine_exact"] == 1.0  # a flat index is exact
    assert not got["split"]
