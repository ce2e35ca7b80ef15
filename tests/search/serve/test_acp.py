"""``GET /acp/feed``: the served snapshot as an ACP product feed, validated against the ACP feed schema."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from search.serve.http import create_app
from tests.search.apiworld import World, running_api, schema_errors

ACP_FEED = Path(__file__).resolve().parents[3] / ".." / "shared" / "specs" / "acp" / "spec" / "2026-04-17" / \
    "json-schema" / "schema.feed.json"


@pytest.fixture(scope="module")
def validator() -> Any:
    if not ACP_FEED.is_file():
        pytest.skip(f"ACP feed schema not found at {ACP_FEED}")
    doc = json.loads(ACP_FEED.read_text("utf-8"))
    schema = {**doc, "$ref": "#/$defs/ProductsResponse"}
    return jsonschema.Draft202012Validator(schema)


def test_feed_pages_validate_and_cover_the_snapshot(world: World, validator: Any) -> None:
    snap = world.engine.snapshot
    seen: list[str] = []
    with running_api(create_app(engine=world.engine, refresh_interval=0)) as base:
        with httpx.Client(base_url=base, trust_env=False, timeout=30) as c:
            url: str | None = "/acp/feed?limit=150"
            while url:
                resp = c.get(url)
                assert resp.status_code == 200 and resp.headers["x-aisle-snapshot"] == snap.version
                doc = resp.json()
                assert schema_errors(validator, doc) == []
                seen += [p["id"] for p in doc["products"]]
                link = re.match(r'<([^>]+)>; rel="next"', resp.headers.get("link", ""))
                url = link.group(1) if link else None
            too_many = c.get("/acp/feed", params={"limit": 5000})
            assert too_many.status_code == 400 and too_many.json()["error"]["code"] == "limit_too_large"
            assert "1000" in too_many.json()["error"]["message"]
    expected = [p.doc_id for p in snap.products if not p.gift_card and p.variants]
    assert seen == expected
    hostile = str(world.extra["hostile"]["id"])
    with running_api(create_app(engine=world.engine, refresh_interval=0)) as base:
        page = httpx.get(f"{base}/acp/feed", params={"limit": 1000}, trust_env=False).json()
    product = next(p for p in page["products"] if p["id"].endswith(hostile))
    assert "<" not in product["title"] and "script" not in product["description"]["plain"]
    variant = product["variants"][0]
    assert variant["price"] == {"amount": 2900, "currency": "USD"}
    assert variant["availability"] == {"available": True, "status": "in_stock"}
    assert variant["variant_options"] == [{"name": "Color", "value": "Charcoal"}]
