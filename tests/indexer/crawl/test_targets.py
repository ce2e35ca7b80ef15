"""Targets and the merchants file format."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.crawl.targets import Target, dedupe, load_targets, parse_line
from indexer.errors import ConfigError


def test_text_and_json_lines(tmp_path: Path) -> None:
    f = tmp_path / "merchants.txt"
    f.write_text("\n".join([
        "# my merchants",
        "shopify https://a.example/",
        "etsy 12345  # a comment",
        "https://b.example",
        "67890",
        "",
        '{"platform": "shopify", "url": "c.example"}',
        '{"platform": "etsy", "shop_id": 111}',
        '{"shopify": "https://a.example"}',
        '{"etsy": "12345"}',
    ]))
    assert load_targets(f) == [
        Target("shopify", "https://a.example"), Target("etsy", "12345"), Target("shopify", "https://b.example"),
        Target("etsy", "67890"), Target("shopify", "https://c.example"), Target("etsy", "111"),
    ]


@pytest.mark.parametrize(("line", "match"), [
    ("etsy abc", "not an Etsy shop id"), ("shopify ftp://x", "not a store URL"), ("{bad json", "bad JSON"),
    ('{"platform": "amazon"}', "need"), ("one two three", "cannot read"), ("[1]", "cannot read|expected"),
])
def test_bad_lines_name_the_file_and_line(line: str, match: str, tmp_path: Path) -> None:
    f = tmp_path / "m.txt"
    f.write_text("shopify https://ok.example\n" + line + "\n")
    with pytest.raises(ConfigError, match=match) as info:
        load_targets(f)
    assert f"{f}:2" in info.value.message


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read merchants file"):
        load_targets(tmp_path / "nope.txt")


def test_labels_and_dedupe() -> None:
    assert Target.etsy(" 0042 ").label == "etsy:42"
    assert Target.shopify("Shop.Example/").label == "https://Shop.Example"
    assert dedupe([Target.shopify("https://x.example"), Target.shopify("https://X.example/")]) == [
        Target.shopify("https://x.example")]
    assert parse_line("   # only a comment") is None
