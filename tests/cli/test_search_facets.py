"""`aisle search --facets/--sort/--explain/--highlight` as a user runs it (subprocess), JSON and table."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_search import aisle, home  # noqa: F401  (home: the module fixture, a small on-disk snapshot)


def test_facets_sort_explain_highlight_in_json(home: Path) -> None:  # noqa: F811
    res = aisle(home, "search", "wool", "--facets", "color,size,price", "--sort", "price_desc", "--explain",
                "--highlight", "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert {f["value"]: f["count"] for f in doc["facets"]["color"]} == {"Red": 2, "Blue": 1}
    assert [b["currency"] for b in doc["facets"]["price"]] == ["USD"] * len(doc["facets"]["price"])
    prices = [r["variant"]["price"]["amount"] for r in doc["results"]]
    assert prices == sorted(prices, reverse=True) and doc["interpreted"]["sort"] == "price_desc"
    assert all(r["explain"]["variant_reason"] and "[[Wool]]" in r["_highlight"]["title"] for r in doc["results"])


def test_facets_in_the_table_and_a_bad_facet(home: Path) -> None:  # noqa: F811
    res = aisle(home, "search", "wool beanie", "--facets", "color", "--explain", "--no-buyable-first")
    assert res.returncode == 0, res.stderr
    assert "facet color: Red (2), Blue (1)" in res.stdout  # no constraint: every ranked product is an exact match
    assert "variant:" in res.stdout
    res = aisle(home, "search", "wool", "--facets", "flavour", "--json")
    assert res.returncode != 0
