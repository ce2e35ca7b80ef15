"""`aisle crawl` and `aisle stats` as a user runs them (subprocess, real simulator, real DuckDB)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from indexer.storefront import running_storefront
from tests.indexer.crawl_helpers import make_catalog


def aisle(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("AISLE_ALLOW_HOSTS", "AISLE_ETSY_API_KEY")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-c", "from cli.main import run; run()", "--home", str(home), *args],
                          capture_output=True, text=True, env=full_env, timeout=120)


@pytest.fixture(scope="module")
def sf(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    catalog = make_catalog(tmp_path_factory.mktemp("cat"), shared_dir, shopify=("analemma", "great-outdoor"),
                           etsy=("kalima-arts",))
    with running_storefront(catalog) as server:
        yield server


def test_crawl_json_then_stats_json(sf: Any, tmp_path: Path) -> None:
    sid = str(sf.etsy_shop_ids["kalima-arts"])
    res = aisle(tmp_path, "crawl", "--shopify", sf.shopify_url("analemma"), "--shopify",
                sf.shopify_url("great-outdoor"), "--etsy", sid, "--etsy-api", sf.etsy_api,
                "--allow-host", "127.0.0.1", "--delay", "0", "--json",
                env={"AISLE_ETSY_API_KEY": "key:secret"})
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["complete"] and doc["products"] == 31 + 38 + 21
    assert {m["target"] for m in doc["merchants"]} == {sf.shopify_url("analemma"), sf.shopify_url("great-outdoor"),
                                                       f"etsy:{sid}"}
    m = doc["merchants"][0]
    assert set(m) >= {"products", "new", "changed", "unchanged", "removed", "quarantined", "errors", "complete",
                      "seconds"}
    assert (tmp_path / "catalog.duckdb").exists()

    res = aisle(tmp_path, "stats", "--json")
    assert res.returncode == 0, res.stderr
    stats = json.loads(res.stdout)
    assert stats["products"] == 90 and stats["variants"] > 90
    assert {m["id"] for m in stats["merchants"]} >= {sid}
    for m in stats["merchants"]:
        assert set(m) >= {"id", "platform", "name", "products", "variants", "available_variants", "last_crawl",
                          "errors"}
    human = aisle(tmp_path, "stats")
    assert human.returncode == 0 and "90 products" in human.stdout


def test_merchants_file_and_env_allow_list(sf: Any, tmp_path: Path) -> None:
    f = tmp_path / "merchants.txt"
    f.write_text(f"# two stores\nshopify {sf.shopify_url('analemma')}\n"
                 + json.dumps({"platform": "shopify", "url": sf.shopify_url("great-outdoor")}) + "\n")
    res = aisle(tmp_path, "crawl", "--merchants", str(f), "--delay", "0", env={"AISLE_ALLOW_HOSTS": "127.0.0.1"})
    assert res.returncode == 0, res.stderr
    assert "69 products" in res.stdout


def test_loopback_is_refused_without_allow_host(sf: Any, tmp_path: Path) -> None:
    res = aisle(tmp_path, "crawl", "--shopify", sf.shopify_url("analemma"), "--json")
    assert res.returncode == 2
    assert json.loads(res.stdout.strip().splitlines()[-1])["error"]["code"] == "host_not_allowed"
    assert "--allow-host" in res.stderr


def test_incomplete_crawl_exits_3_and_is_shown_in_stats(sf: Any, tmp_path: Path) -> None:
    res = aisle(tmp_path, "crawl", "--shopify", sf.shopify_url("no-such-store"), "--shopify",
                sf.shopify_url("analemma"), "--allow-host", "127.0.0.1", "--delay", "0", "--retries", "0")
    assert res.returncode == 3
    assert "incomplete" in res.stdout
    stats = json.loads(aisle(tmp_path, "stats", "--json").stdout)
    assert stats["products"] == 31 and stats["errors_total"] == 1


def test_usage_errors(tmp_path: Path) -> None:
    res = aisle(tmp_path, "crawl", "--etsy", "123", "--json")
    assert res.returncode == 2 and json.loads(res.stdout)["error"]["code"] == "config_error"
    assert "AISLE_ETSY_API_KEY" in res.stderr
    res = aisle(tmp_path, "crawl", "--merchants", str(tmp_path / "missing.txt"))
    assert res.returncode == 2 and "cannot read merchants file" in res.stderr
    (tmp_path / "empty").mkdir()  # a workspace without a catalog (a missing one: tests/cli/test_readonly_home.py)
    res = aisle(tmp_path / "empty", "stats", "--json")
    assert res.returncode == 4 and json.loads(res.stdout)["error"]["code"] == "store_error"
    assert aisle(tmp_path, "crawl", "--help").returncode == 0
