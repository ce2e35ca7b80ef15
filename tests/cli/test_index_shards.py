"""`aisle index --shards N` as a user runs it (subprocess, real simulator, real DuckDB, hashing encoder)."""

from __future__ import annotations

import json
from pathlib import Path

from indexer.storefront import running_storefront
from tests.cli.test_crawl import aisle


def test_index_writes_shards_partitioned_by_merchant(sample_dir: Path, tmp_path: Path) -> None:
    with running_storefront(sample_dir) as sf:
        urls = [a for s in sf.shopify_slugs for a in ("--shopify", sf.shopify_url(s))]
        res = aisle(tmp_path, "crawl", *urls, "--allow-host", "127.0.0.1", "--delay", "0", "--json")
        assert res.returncode == 0, res.stderr
    res = aisle(tmp_path, "index", "--model", "hashing-64", "--shards", "2", "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    shards = doc["shards"]
    assert shards["shards"] == 2 and shards["rebuilt"] == [0, 1] and shards["version"] == doc["version"]
    folders = [tmp_path / "shards" / f"shard-{k}" / v for k, v in enumerate(shards["versions"])]
    assert all((f.parent / "CURRENT").read_text().strip() == f.name for f in folders)  # each shard's own pointer
    infos = [json.loads((f / "shard.json").read_text()) for f in folders]
    assert sum(i["products"] for i in infos) == doc["products"] == sum(shards["products"])
    assert not set(infos[0]["merchants"]) & set(infos[1]["merchants"])  # a merchant never spans shards
    res = aisle(tmp_path, "index", "--model", "hashing-64", "--shards", "2", "--json")
    again = json.loads(res.stdout)["shards"]
    assert again["rebuilt"] == [] and again["versions"] == shards["versions"]  # nothing changed: nothing rewritten
    res = aisle(tmp_path, "index", "--model", "hashing-64", "--shards", "0", "--ray-workers", "0")
    assert res.returncode == 2  # bad option values are usage errors
