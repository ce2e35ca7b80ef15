"""What ``aisle demo`` prints for its own example queries (issue 16), fast: the sample catalog in an
in-memory snapshot (hashing encoder), the demo's own question step and the shared printers.

The full run (simulator, crawl, real model) is tests/cli/test_demo.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.commands.demo import EXAMPLE_QUERIES, _ask
from cli.output import console, print_check
from search.engine import Engine
from search.schema import CheckedItem, CheckResponse, Money
from tests.search.conftest import load_catalog, make_engine


@pytest.fixture(scope="module")
def sample(sample_dir: Path) -> Engine:
    products, merchants = load_catalog(sample_dir, shopify_base=lambda s: f"https://{s}.example",
                                       etsy_api="https://openapi.etsy.com/v3/application")
    return make_engine(products, merchants)


@pytest.fixture(scope="module")
def shown(sample: Engine) -> tuple[str, list[dict]]:
    with console.capture() as cap:
        answers = _ask(sample, list(EXAMPLE_QUERIES), 3, True)
    return cap.get(), answers


def test_demo_names_the_country_it_answers_for(shown: tuple[str, list[dict]]) -> None:
    out, answers = shown
    assert answers[0]["interpreted"]["country"] == "CA"
    flat = " ".join(out.split())  # the capture wraps at 80 columns
    assert "(buyer in US)" not in flat
    assert "Canada (for CA: the query names it over the buyer's US)" in flat
    assert "20 pounds (for GB)" in flat


def test_demo_offers_no_cursor_it_cannot_take(shown: tuple[str, list[dict]]) -> None:
    out, answers = shown
    assert any(a["next_cursor"] for a in answers)  # there are more results ...
    assert "--cursor" not in out  # ... but demo takes no --cursor
    assert "--limit" in out


def test_demo_mug_answer_keeps_its_price(shown: tuple[str, list[dict]]) -> None:
    _, answers = shown
    (mug,) = [a for a in answers if a["query"].startswith("ceramic mug gift under 20 pounds")]
    assert mug["interpreted"]["filters"]["price"] == {"min": None, "max": 2000, "currency": "GBP"}
    assert mug["results"]
    for hit in mug["results"]:
        assert hit["match"]["exact"] and hit["variant"]["price"]["currency"] == "GBP"
        assert hit["variant"]["price"]["amount"] <= 2000, hit["title"]


def test_recheck_prints_major_units() -> None:
    item = CheckedItem(variant_id="1", doc_id=None, quantity=1, title="Beanie", eligible=True, reasons=[],
                       price=Money(amount=3400, currency="USD"), checked_at="2027-01-15T08:00:00Z")
    with console.capture() as cap:
        print_check(CheckResponse(country="CA", items=[item], checkouts=[], eligible=True))
    out = cap.get()
    assert "34.00 USD" in out and "3400" not in out
