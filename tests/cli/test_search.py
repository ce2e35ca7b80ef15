"""`aisle search` as a user runs it (subprocess) over a real on-disk snapshot (hashing encoder: no model load)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from indexer.build.embed import HashingEncoder
from indexer.build.index import build_index
from indexer.workspace import Workspace
from tests.search.conftest import merchant, product, variant


def aisle(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**{k: v for k, v in os.environ.items() if k != "AISLE_HOME"}, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-c", "from cli.main import run; run()", "--home", str(home), *args],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("home")
    m = merchant("knits.myshopify.com", ships_to=("US", "CA"))
    ps = [product("Red Wool Beanie", [variant({"Color": "Red", "Size": "M"}, price=3400, vid="11"),
                                      variant({"Color": "Red", "Size": "L"}, price=3400, vid="12")], m=m, pid="1"),
          product("Blue Wool Beanie", [variant({"Color": "Blue", "Size": "M"}, price=2000, vid="21")], m=m, pid="2"),
          product("Red Wool Scarf", [variant({"Color": "Red"}, price=5000, vid="31")], m=m, pid="3")]
    now = datetime.now(UTC).isoformat()
    build_index(ps, [m], Workspace.resolve(path), encoder=HashingEncoder(32),
                crawled_at={p.doc_id: now for p in ps}, watermark="cli")
    return path


def test_json_answer(home: Path) -> None:
    res = aisle(home, "search", "wool beanie", "--filter", "color=red", "--filter", "size=M", "--price-max", "40",
                "--currency", "USD", "--country", "CA", "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert [r["title"] for r in doc["results"]] == ["Red Wool Beanie"]
    r = doc["results"][0]
    assert r["variant"]["id"] == "11" and r["variant"]["price"] == {"amount": 3400, "currency": "USD"}
    assert r["buy"]["eligible"] and r["buy"]["checkout_url"] == "https://knits.myshopify.com/cart/11:1"
    assert doc["interpreted"]["country"] == "CA"
    assert doc["interpreted"]["languages"] == ["en"]  # an English query over an English catalog
    assert doc["interpreted"]["filters"]["price"] == {"min": None, "max": 4000, "currency": "USD"}


def test_table_near_and_errors(home: Path) -> None:
    res = aisle(home, "search", "wool beanie", "-f", "color=red", "-f", "size=M", "--near", "--mode", "bm25")
    assert res.returncode == 0, res.stderr
    assert "Red Wool Beanie" in res.stdout and "near" in res.stdout and "eligible" in res.stdout
    res = aisle(home, "search", "beanie", "-f", "flavour=mint", "--json")
    assert res.returncode == 2 and json.loads(res.stdout)["error"]["code"] == "unknown_filter"
    res = aisle(home, "search", "beanie", "-f", "novalue")
    assert res.returncode == 2 and "name=value" in res.stderr
    res = aisle(home, "search", "")
    assert res.returncode == 2 and "give a query or at least one filter" in res.stderr
    res = aisle(home, "search", "x" * 3000)
    assert res.returncode == 2


def test_query_backend_option(home: Path) -> None:
    """``--query-backend`` (global, before the command) is documented, checked, and reaches the engine."""
    res = aisle(home, "--help")
    assert res.returncode == 0 and "--query-backend" in res.stdout and "AISLE_QUERY_BACKEND" in res.stdout
    res = aisle(home, "--query-backend", "gpu", "search", "beanie", "--json")
    assert res.returncode == 2 and "unknown query backend 'gpu'" in res.stderr
    res = aisle(home, "--query-backend", "torch", "search", "wool beanie", "--json")  # hashing snapshot: itself
    assert res.returncode == 0, res.stderr
    assert "Red Wool Beanie" in [r["title"] for r in json.loads(res.stdout)["results"]]
