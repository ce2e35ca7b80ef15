"""A hostile merchant served for real: the storefront simulator (loopback) with one store whose product
carries hostile links, crawled, indexed (``hashing-64``) and served by the API on a free loopback port.

Used by the merchant-URL, Host-check, cursor, validation and ACP-marker tests of ``tests/security``.
Only the one Shopify store is crawled (Etsy crawls need an OAuth connection; Etsy links are tested at
the parser and at the answer edge).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from indexer.build.index import index_workspace
from indexer.crawl.run import crawl
from indexer.crawl.targets import Target
from indexer.store.store import Store
from indexer.storefront import running_storefront
from indexer.workspace import Workspace
from search.engine import Engine
from search.serve.http import create_app
from tests.indexer.crawl_helpers import fast_settings
from tests.search.apiworld import running_api

STORE = "northfield-knits"
HOSTILE_LINK_TITLE = "Hostile Link Beanie"
BAD_IMAGES = ("javascript:alert(document.cookie)", "http://169.254.169.254/latest/meta-data/iam",
              "https://attacker.example/pixel.gif", "//cdn.shopify.com@evil.example/x.jpg")
GOOD_IMAGE = "https://cdn.shopify.com/s/files/aisle-sample/hostile-ok.jpg"


@dataclass
class HostileApi:
    """The running API over the crawled hostile store."""

    base: str
    ws: Workspace
    engine: Engine
    product: dict[str, Any]


def hostile_product() -> dict[str, Any]:
    """A Shopify product whose handle and image sources are attacks (one image is fine)."""
    return {
        "title": HOSTILE_LINK_TITLE,
        "handle": "javascript:alert(document.cookie)",
        "body_html": "<p>A beanie.</p>",
        "vendor": "Northfield",
        "product_type": "Hats",
        "images": [{"src": s} for s in (*BAD_IMAGES, GOOD_IMAGE)],
        "options": [{"name": "Color", "position": 1, "values": ["Charcoal"]}],
        "variants": [{"price": "29.00", "option1": "Charcoal"}],
    }


@contextlib.contextmanager
def hostile_api(sample_dir: Path, tmp: Path, **app_kw: Any) -> Iterator[HostileApi]:
    """Simulator with the hostile product → crawl the one store → index → API on loopback."""
    ws = Workspace.resolve(tmp / "home")
    with running_storefront(sample_dir) as sf:
        added = sf.add_product("shopify", STORE, hostile_product())
        with Store.open(ws.catalog_db) as store:
            report = crawl([Target.shopify(sf.shopify_url(STORE))], store, settings=fast_settings(sf))
        assert report.complete, report.to_dict()
    assert index_workspace(ws, "hashing-64", "cpu").status == "built"
    engine = Engine.open(ws)
    with running_api(create_app(engine=engine, refresh_interval=0, **app_kw)) as base:
        yield HostileApi(base, ws, engine, added)
