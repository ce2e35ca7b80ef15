"""cli.output: what the CLI prints goes through the edge sanitiser, and merchant text is never rich markup."""

from __future__ import annotations

from rich.console import Console

from cli.output import clean, money, print_check, print_search
from search.schema import CheckResponse, Money, SearchRequest, SearchResponse
from tests.search.conftest import make_engine, merchant, product, variant

HOSTILE = "<b>Warm</b> hat\x1b[2J\u202e"


def _answer() -> SearchResponse:
    shop = merchant("term.myshopify.com")
    hat = product("Warm hat", [variant({"Color": "[red]Red[/red]"})], m=shop, pid="7")
    resp = make_engine([hat], [shop]).search(SearchRequest(query="hat"))
    # Raw text put back after the engine: only the CLI's own pass can clean it.
    return resp.model_copy(update={"results": [r.model_copy(update={"title": HOSTILE}) for r in resp.results]})


def _render(fn: object, resp: object) -> str:
    out = Console(record=True, width=200, color_system=None)
    fn(resp, out)  # type: ignore[operator]
    return out.export_text()


def test_search_output_is_sanitised_and_escaped() -> None:
    text = _render(print_search, _answer())
    assert "Warm hat" in text and "<b>" not in text and "\x1b" not in text and "\u202e" not in text
    assert "Color: [red]Red[/red]" in text  # a merchant's markup-looking value is printed as written


def test_clean_returns_the_same_model_type() -> None:
    out = clean(_answer())
    assert isinstance(out, SearchResponse) and out.results[0].title == "Warm hat[2J"  # ESC gone: inert text


def test_check_output_and_money() -> None:
    check = CheckResponse(country="US", items=[], checkouts=[], eligible=True)
    assert _render(print_check, check) == ""
    assert money(Money(amount=4000, currency="USD")) == "40.00 USD"
    assert money(Money(amount=4000, currency="JPY")) == "4,000 JPY"
    assert money(None) == "-"


def test_search_output_says_when_a_language_besides_english_was_read() -> None:
    resp = _answer()

    def read_in(langs: list[str]) -> str:
        it = resp.interpreted.model_copy(update={"languages": langs})
        return _render(print_search, resp.model_copy(update={"interpreted": it}))

    assert "read in" not in read_in(["en"])  # English alone: the usual case, not repeated
    assert "read in: pt + en" in read_in(["pt", "en"])
