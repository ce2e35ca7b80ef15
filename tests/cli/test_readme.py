"""The README's quickstart runs as written: the stores and shops it names exist in ``data/sample`` and its
``aisle crawl`` line crawls products from every one of them (issue 16: it once named stores that did not
exist and crawled 0 products)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from indexer.storefront import running_storefront
from tests.cli.test_crawl import aisle

README = Path(__file__).resolve().parents[2] / "README.md"
SIMULATOR = "http://127.0.0.1:8765"  # the address the quickstart starts the simulator on


def quickstart_crawl(readme: str) -> list[str]:
    """The arguments of the quickstart's ``aisle crawl`` command (continuation lines joined, comment cut)."""
    text = readme.replace("\\\n", " ")
    line = next(raw for raw in text.splitlines() if raw.strip().startswith("aisle crawl "))
    return shlex.split(line.split("#", 1)[0])[2:]


def test_quickstart_names_sample_stores(sample_dir: Path) -> None:
    args = quickstart_crawl(README.read_text())
    slugs = [re.sub(r".*/shopify/", "", v) for k, v in zip(args, args[1:], strict=False) if k == "--shopify"]
    shops = [v for k, v in zip(args, args[1:], strict=False) if k == "--etsy"]
    assert slugs and shops
    assert all((sample_dir / "shopify" / s).is_dir() for s in slugs), slugs
    sample_shops = {str(json.loads(p.read_text())["shop_id"]) for p in sample_dir.glob("etsy/*/shop.json")}
    assert set(shops) <= sample_shops
    connected = re.findall(r"aisle etsy connect (\d+)", README.read_text())
    assert connected and set(connected) <= sample_shops


def test_quickstart_crawl_finds_products(sample_dir: Path, tmp_path: Path) -> None:
    with running_storefront(sample_dir) as sf:
        args = [a.replace(SIMULATOR, sf.base_url.rstrip("/")) for a in quickstart_crawl(README.read_text())]
        res = aisle(tmp_path, "crawl", *args, "--delay", "0", "--json", env={"AISLE_ETSY_API_KEY": "key:secret"})
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["products"] > 0
    assert all(m["products"] > 0 for m in doc["merchants"]), doc["merchants"]
