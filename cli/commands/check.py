"""``aisle check``: re-check a cart live against the merchants (the engine call behind ``POST /v1/checkout/check``
and MCP ``check_checkout``) and print, per item, whether it can be bought now, its live price and each merchant's
checkout link.

Items are ``VARIANT_ID[:QTY]`` (the variant ids that search answers carry; quantity 1 when left out). Prices
print in major units with their currency (``34.00 USD``, from the integer minor units the engine returns);
``--json`` prints the :class:`~search.schema.CheckResponse` unchanged (money in minor units, as on every API).
"""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from cli.output import clean, console, money
from indexer.errors import ConfigError
from search.schema import CartItem, CheckRequest, CheckResponse, country_or_error

MAX_ITEMS = 50  # CheckRequest's own bound, said here in the CLI's words


def parse_items(specs: list[str]) -> list[CartItem]:
    """``["11:2", "12"]`` → cart items; a clear :class:`ConfigError` for a bad spec or quantity."""
    if not specs:
        raise ConfigError("name at least one item: aisle check VARIANT_ID[:QTY]...", code="bad_request")
    if len(specs) > MAX_ITEMS:
        raise ConfigError(f"at most {MAX_ITEMS} items per check, got {len(specs)}", code="bad_request")
    items = []
    for spec in specs:
        vid, sep, qty = spec.strip().rpartition(":")
        if not sep:
            vid, qty = spec.strip(), "1"
        if not vid or not qty.isdigit() or not 1 <= int(qty) <= 999:
            raise ConfigError(f"an item is VARIANT_ID[:QTY] with QTY between 1 and 999, got {spec!r}",
                              code="bad_request")
        if len(vid) > 64:
            raise ConfigError(f"a variant id has at most 64 characters, got {len(vid)}", code="bad_request")
        items.append(CartItem(variant_id=vid, quantity=int(qty)))
    return items


def print_cart(check: CheckResponse) -> None:
    """One row per item (eligible or why not, live price in major units), then one checkout link per merchant."""
    check = clean(check)
    table = Table(show_lines=False)
    for col in ("variant", "qty", "title", "price", "buy"):
        table.add_column(col, overflow="fold")
    for item in check.items:
        state = "[green]eligible[/green]" if item.eligible else "[red]" + escape(", ".join(item.reasons)) + "[/red]"
        price = money(item.price)
        if item.price_changed and item.indexed_price is not None:
            price += f" (was {money(item.indexed_price)})"
        table.add_row(Text(item.variant_id), str(item.quantity), Text(item.title or "-"), price, state)
    console.print(table)
    for co in check.checkouts:
        link = co.checkout_url or "(no merchant-level link: use each item's own link)"
        line = Text(f"checkout at {co.merchant.name}: {link}")
        if not co.eligible:
            line.append("  (some items are not eligible)", style="yellow")
        console.print(line)
    verdict = "every item can be bought now" if check.eligible else "some items cannot be bought now"
    console.print(Text(f"{verdict} (buyer in {check.country})", style="green" if check.eligible else "yellow"))


def check(
    items: list[str] = typer.Argument(None, help="Items as VARIANT_ID[:QTY], e.g. 11:2 12 (quantity 1 if left out).",
                                      show_default=False),
    country: str = typer.Option("US", "--country", help="Buyer country, ISO 3166-1 alpha-2."),
    as_json: bool = typer.Option(False, "--json", help="Print the CheckResponse JSON (money in minor units)."),
) -> None:
    """Re-check items live at their merchants: buyable now or why not, the live price, one checkout link per
    merchant (the same engine call as POST /v1/checkout/check). Authoritative, unlike search answers."""
    from cli.main import State
    from search.engine import Engine

    request = CheckRequest(items=parse_items(items or []), country=country_or_error(country))
    if not as_json:
        typer.echo(f"checking {len(request.items)} item(s) live at the merchants...", err=True)
    resp = Engine.open(State.workspace(read_only=True), settings=State.engine_settings()).check(request)
    if as_json:
        print(clean(resp).model_dump_json())
        return
    print_cart(resp)


def register(app: typer.Typer) -> None:
    """Add ``aisle check`` to the CLI."""
    app.command("check")(check)
