"""``aisle eval`` as a user runs it: a real workspace snapshot, files on disk, the console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.build.embed import HashingEncoder
from tests.search.evalfixtures import build_workspace, judged_set

AISLE = [sys.executable, "-c", "from cli.main import run; run()"]


def _aisle(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AISLE_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run([*AISLE, *args], capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("eval-cli")
    ws, products = build_workspace(root / "home", HashingEncoder(64))  # the engine reloads it from the manifest
    queries, qrels = judged_set(products)
    q = root / "queries.jsonl"
    q.write_text("".join(json.dumps({"query_id": x.query_id, "query": x.query,
                                     **({"context": {"country": x.context.country}} if x.context else {})})
                         + "\n" for x in queries))
    c = root / "constraints.jsonl"
    c.write_text(json.dumps({"query_id": "red-m", "constraints": {"color": "red", "size": "M"}}) + "\n")
    r = root / "qrels.txt"
    r.write_text("".join(f"{qid} 0 {doc} {g}\n" for qid, docs in qrels.items() for doc, g in docs.items()))
    return {"home": ws.home, "queries": q, "qrels": r, "constraints": c, "root": root}


def test_eval_all_modes_json_report_and_saved_runs(files: dict[str, Path]) -> None:
    root = files["root"]
    out = _aisle("eval", "--queries", str(files["queries"]), "--qrels", str(files["qrels"]), "--constraints",
                 str(files["constraints"]), "--mode", "all", "--json", "--save-run", str(root / "run.json"),
                 "--report", str(root / "rep"), "--no-progress", home=files["home"])
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert set(doc["modes"]) == {"bm25", "dense", "hybrid"}
    assert set(doc["modes"]["hybrid"]["metrics"]) >= {"ndcg@10", "recall@100", "mrr@10", "p@10", "judged@10",
                                                      "constraint_sat@10", "eligible@10"}
    assert doc["modes"]["hybrid"]["n"]["constraint_sat@10"] == 1
    assert [u["query_id"] for u in doc["unjudged_queries"]] == ["nothing", "unjudged"]
    assert len(doc["comparisons"]) == 3 * 7
    for mode in ("bm25", "dense", "hybrid"):
        run = json.loads((root / f"run.{mode}.json").read_text())
        assert set(run) == {"red-m", "boards", "ca", "nothing", "unjudged"} and len(run["boards"]) <= 100
    assert {p.name for p in (root / "rep").iterdir()} == {"report.json", "report.md", "metrics.png", "delta.png"}
    assert "aisle eval --queries" in (root / "rep" / "report.md").read_text()


def test_eval_against_its_own_saved_run_prints_tables(files: dict[str, Path]) -> None:
    root = files["root"]
    first = _aisle("eval", "--queries", str(files["queries"]), "--qrels", str(files["qrels"]), "--mode", "bm25",
                   "--save-run", str(root / "bm25.json"), "--no-progress", home=files["home"])
    assert first.returncode == 0, first.stderr
    assert (root / "bm25.json").exists() and "run saved to" in first.stdout
    out = _aisle("eval", "--queries", str(files["queries"]), "--qrels", str(files["qrels"]), "--mode", "bm25",
                 "--baseline", str(root / "bm25.json"), "--no-progress", home=files["home"])
    assert out.returncode == 0, out.stderr
    assert "ndcg@10" in out.stdout and "baseline:bm25 → bm25" in out.stdout
    assert "+0.000" in out.stdout and "2 queries left out of the means" in out.stdout


def test_bad_files_and_options_exit_2_with_file_and_line(files: dict[str, Path]) -> None:
    bad = files["root"] / "bad.qrels"
    bad.write_text("red-m 0 doc 2\nred-m 0 doc\n")
    out = _aisle("eval", "--queries", str(files["queries"]), "--qrels", str(bad), home=files["home"])
    assert out.returncode == 2 and f"{bad}:2: expected TREC" in out.stderr.replace("\n", "")
    out = _aisle("eval", "--queries", str(files["queries"]), "--qrels", str(files["qrels"]), "--mode", "fuzzy",
                 "--json", home=files["home"])
    assert out.returncode == 2 and json.loads(out.stdout)["error"]["code"] == "config_error"


def test_no_snapshot_is_a_clear_error(files: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()  # a workspace without a snapshot (a missing one is tests/cli/test_readonly_home.py)
    out = _aisle("eval", "--queries", str(files["queries"]), "--qrels", str(files["qrels"]), home=tmp_path / "empty")
    assert out.returncode == 5, out.stderr
