"""``aisle merchants``: which store URL speaks for which merchant id (see indexer.store.identity)."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.markup import escape

console = Console()
merchants_app = typer.Typer(help="Merchant identity: the origin each merchant was first crawled from, and the "
                            "origins the operator linked to it.", no_args_is_help=True)


@merchants_app.command("link")
def link(
    merchant_id: str = typer.Argument(..., help="A merchant id in the catalog, e.g. northfield-knits.myshopify.com."),
    origin: str = typer.Argument(..., help="The store URL that may speak for it from now on, e.g. "
                                 "https://shop.northfield.example."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Let ORIGIN speak for MERCHANT_ID (a store that moved). Without a link, a crawl of another URL claiming
    a known merchant id is refused and recorded as identity_conflict in crawl_errors."""
    from cli.main import State
    from indexer.store.store import Store

    with Store.open(State.workspace().catalog_db) as store:
        normalised = store.link_merchant(merchant_id, origin, now=store.now(), source="cli")
        first = store.merchant_origin(merchant_id)
        links = store.merchant_links(merchant_id)
    doc = {"merchant_id": merchant_id, "linked": normalised, "origin": first, "links": links}
    if as_json:
        print(json.dumps(doc))
    else:
        console.print(f"linked {escape(normalised)} to {escape(merchant_id)} (first crawled from {escape(str(first))})")


@merchants_app.command("list")
def list_merchants(as_json: bool = typer.Option(False, "--json", help="Print the merchants as JSON.")) -> None:
    """Every merchant with the origin it is bound to and its linked origins."""
    from cli.main import State
    from indexer.store.store import Store

    # writable: an older catalog gains the identity columns (but a missing workspace is not created)
    with Store.open(State.workspace(read_only=True).catalog_db) as store:
        rows = [{"merchant_id": m.merchant_id, "platform": m.platform, "origin": store.merchant_origin(m.merchant_id),
                 "links": store.merchant_links(m.merchant_id)} for m in store.merchants()]
    if as_json:
        print(json.dumps(rows))
        return
    for r in rows:
        extra = f"  (+ {', '.join(r['links'])})" if r["links"] else ""
        console.print(escape(f"{r['merchant_id']}  {r['platform']}  {r['origin']}{extra}"))


def register(app: typer.Typer) -> None:
    """Add ``aisle merchants`` to the CLI."""
    app.add_typer(merchants_app, name="merchants")
