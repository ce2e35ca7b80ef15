"""A crawl error is visible (issue 16): ``aisle crawl --json`` gives each failed merchant's last error, and
``aisle stats`` (table and ``--json``) shows it per merchant, including a target that never answered as a
merchant (a 404 store, an unknown Etsy shop), from the crawl_errors table in DuckDB."""

from __future__ import annotations

import json
from pathlib import Path

from indexer.storefront import running_storefront
from tests.cli.test_crawl import aisle


def test_last_error_in_crawl_json_and_stats(sample_dir: Path, tmp_path: Path) -> None:
    with running_storefront(sample_dir) as sf:
        missing = sf.base_url.rstrip("/") + "/shopify/no-such-store"
        res = aisle(tmp_path, "crawl", "--allow-host", "127.0.0.1", "--delay", "0", "--shopify", missing,
                    "--shopify", sf.shopify_url("thames-pottery"), "--etsy", "1001", "--etsy-api", sf.etsy_api,
                    "--json", env={"AISLE_ETSY_API_KEY": "key:secret"})
        assert res.returncode == 3, res.stderr
        by_target = {m["target"]: m for m in json.loads(res.stdout)["merchants"]}
        for target in (missing, "etsy:1001"):
            err = by_target[target]["last_error"]
            assert err["status"] == 404 and err["code"] == "http_404" and "404" in err["message"] and err["url"]
        assert by_target[sf.shopify_url("thames-pottery")]["last_error"] is None

        human = aisle(tmp_path, "crawl", "--allow-host", "127.0.0.1", "--delay", "0", "--shopify", missing)
        assert human.returncode == 3 and "no-such-store" in human.stdout and "http_404" in human.stdout

    stats = json.loads(aisle(tmp_path, "stats", "--json").stdout)
    rows = {m["id"] or m["target"]: m for m in stats["merchants"]}
    assert rows["thames-pottery.myshopify.com"]["last_error"] is None
    for key, platform in ((missing, "shopify"), ("etsy:1001", "etsy")):
        row = rows[key]
        assert row["id"] is None and row["platform"] == platform and row["errors"] == 1
        assert row["last_error"]["status"] == 404 and row["last_error"]["at"]
    table = aisle(tmp_path, "stats")
    assert table.returncode == 0
    assert "no-such-store" in table.stdout and "etsy:1001" in table.stdout and "http_404" in table.stdout
