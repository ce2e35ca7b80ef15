"""``aisle check`` and ``aisle feed`` as a user runs them (subprocess), over a real world: the storefront
simulator crawled into DuckDB, a snapshot on disk (hashing encoder), live re-checks read from the simulator.

``check`` answers what ``Engine.check`` (``POST /v1/checkout/check``) answers, and prints prices in major
units; ``feed --format acp`` writes the records ``GET /acp/feed`` serves, each valid against the ACP feed
schema in ``../shared/specs/acp``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from search.schema import CartItem, CheckRequest
from search.serve.http import create_app
from tests.search.apiworld import ETSY_KEY, World, running_api, sample_world, schema_errors
from tests.search.serve.test_acp import ACP_FEED


def aisle(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**{k: v for k, v in os.environ.items() if k != "AISLE_HOME"}, "COLUMNS": "200",
           "AISLE_ETSY_API_KEY": ETSY_KEY, "AISLE_ALLOW_HOSTS": "127.0.0.1", "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-c", "from cli.main import run; run()", "--home", str(world.ws.home),
                           *args], capture_output=True, text=True, env=env, timeout=180)


@pytest.fixture(scope="module")
def world(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with sample_world(sample_dir, tmp_path_factory.mktemp("cli-check")) as w:
        yield w


def _shopify_variants(world: World, n: int) -> list[tuple[str, int, str]]:
    """(variant id, price, currency) of ``n`` in-stock USD variants of one Shopify merchant shipping to US."""
    snap = world.engine.snapshot
    for mid, m in snap.merchants.items():
        if m.platform != "shopify" or m.currency != "USD" or (m.ships_to and "US" not in m.ships_to):
            continue
        found = [(v.variant_id, v.price, v.currency) for p in snap.products if p.merchant_id == mid
                 and not p.gift_card for v in p.variants if v.available and v.price]
        if len(found) >= n:
            return found[:n]
    raise AssertionError("no Shopify merchant with enough variants")


def test_check_json_is_the_engine_answer(world: World) -> None:
    (v1, _, _), (v2, _, _) = _shopify_variants(world, 2)
    res = aisle(world, "check", f"{v1}:2", v2, "--country", "US", "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    direct = world.engine.check(CheckRequest(items=[CartItem(variant_id=v1, quantity=2), CartItem(variant_id=v2)],
                                             country="US"))
    strip = ("checked_at",)
    assert [{k: v for k, v in i.items() if k not in strip} for i in doc["items"]] == \
        [i.model_dump(exclude=set(strip)) for i in direct.items]
    assert doc["checkouts"] == [c.model_dump() for c in direct.checkouts]
    assert doc["items"][0]["quantity"] == 2 and doc["eligible"] is True
    assert doc["checkouts"][0]["checkout_url"].endswith(f"/cart/{v1}:2,{v2}:1")


def test_check_table_prints_major_units(world: World) -> None:
    [(vid, price, currency)] = _shopify_variants(world, 1)
    res = aisle(world, "check", vid, "--country", "US")
    assert res.returncode == 0, res.stderr
    major = f"{price / 100:,.2f} {currency}"
    assert major in res.stdout, res.stdout
    assert f" {price} {currency}" not in res.stdout  # never minor units printed as a major amount
    assert "eligible" in res.stdout and "/cart/" in res.stdout and "buyer in US" in res.stdout


@pytest.mark.parametrize(("args", "code", "words"), [
    (["check"], "bad_request", "at least one item"),
    (["check", "11:0"], "bad_request", "QTY between 1 and 999"),
    (["check", "11:x1"], "bad_request", "VARIANT_ID[:QTY]"),
    (["check", "11", "--country", "Atlantis"], "bad_country", "unknown country"),
])
def test_check_refuses_bad_input(world: World, args: list[str], code: str, words: str) -> None:
    res = aisle(world, *args, "--json")
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert json.loads(res.stdout.splitlines()[-1])["error"]["code"] == code
    assert words in res.stderr


def test_check_unknown_variant_is_not_eligible(world: World) -> None:
    res = aisle(world, "check", "no-such-variant", "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["items"][0]["reasons"] == ["unknown_variant"]


@pytest.fixture(scope="module")
def product_validator() -> Any:
    if not ACP_FEED.is_file():
        pytest.skip(f"ACP feed schema not found at {ACP_FEED}")
    doc = json.loads(ACP_FEED.read_text("utf-8"))
    return jsonschema.Draft202012Validator({**doc, "$ref": "#/$defs/Product"})


def test_feed_file_validates_and_equals_the_http_feed(world: World, tmp_path: Path, product_validator: Any) -> None:
    out = tmp_path / "feed.jsonl"
    res = aisle(world, "feed", "--format", "acp", "--output", str(out), "--json")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert summary["products"] == len(rows) > 400 and summary["snapshot"] == world.engine.snapshot.version
    for row in rows:
        assert schema_errors(product_validator, row) == [], row["id"]
    with running_api(create_app(engine=world.engine, refresh_interval=0)) as base:
        served = httpx.get(f"{base}/acp/feed", params={"limit": 1000}, trust_env=False).json()["products"]
    assert rows == served  # the same code as GET /acp/feed
    assert not list(tmp_path.glob(".*.part"))


def test_feed_to_stdout_and_refusals(world: World, tmp_path: Path) -> None:
    res = aisle(world, "feed", "--output", "-")
    assert res.returncode == 0, res.stderr
    assert len(res.stdout.splitlines()) > 400 and json.loads(res.stdout.splitlines()[0])["variants"]
    res = aisle(world, "feed", "--format", "gmc", "--output", str(tmp_path / "x.jsonl"))
    assert res.returncode == 2 and "--format must be one of acp" in res.stderr
    res = aisle(world, "feed", "--output", str(tmp_path / "missing" / "x.jsonl"))
    assert res.returncode == 2 and "does not exist" in res.stderr
    for cmd in ("check", "feed"):
        assert aisle(world, cmd, "--help").returncode == 0
