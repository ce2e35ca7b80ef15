"""``aisle search``: ask the engine a chat-style question and print the exact variants it would buy."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, cast

import typer
from pydantic import ValidationError

from cli.output import clean, print_search
from indexer.attributes import to_minor
from indexer.errors import ConfigError
from search.schema import Context, Filters, PriceFilter, SearchRequest, SearchResponse
from search.serve.errors import config_error

_PRODUCT_KEYS = {"vendor": "vendor", "brand": "vendor", "product_type": "product_type", "type": "product_type",
                 "merchant": "merchant", "platform": "platform"}


def _filters(pairs: list[str], price_min: str | None, price_max: str | None, currency: str | None,
             in_stock: bool) -> Filters | None:
    attributes: dict[str, list[str]] = {}
    product: dict[str, list[str]] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ConfigError(f"--filter takes name=value (e.g. color=red), got {pair!r}")
        key = _PRODUCT_KEYS.get(name.strip().lower())
        values = [v.strip() for v in value.split("|") if v.strip()]
        if key:
            product.setdefault(key, []).extend(values)
        else:
            attributes.setdefault(name.strip(), []).extend(values)
    price = None
    if price_min is not None or price_max is not None:
        cur = currency.upper() if currency else None
        bounds = []
        for flag, raw in (("--price-min", price_min), ("--price-max", price_max)):
            minor = to_minor(raw, cur or "USD") if raw is not None else None
            if raw is not None and minor is None:
                raise ConfigError(f"{flag} takes an amount such as 40 or 39.99, got {raw!r}")
            bounds.append(minor)
        price = PriceFilter(min=bounds[0], max=bounds[1], currency=cur)
    if not (attributes or product or price or in_stock):
        return None
    kwargs: dict[str, object] = {"attributes": attributes, **product}
    if price is not None:
        kwargs["price"] = price
    if in_stock:
        kwargs["available_only"] = True
    return Filters.model_validate(kwargs)


def search(
    query: str = typer.Argument("", help="The shopper's words, e.g. \"red wool beanie size M under $40\"."),
    country: str = typer.Option("US", "--country", help="Buyer country, ISO 3166-1 alpha-2 (a country named "
                                "in the query wins)."),
    limit: int = typer.Option(10, "--limit", "-n", help="Results per page (1-100)."),
    mode: str = typer.Option("hybrid", "--mode", help="hybrid (BM25 + dense, fused), bm25 or dense."),
    filters: list[str] = typer.Option([], "--filter", "-f", help="name=value constraint, repeatable: an attribute "
                                      "(color=red, size=M, \"With Scarf=With Scarf\") or vendor/product_type/"
                                      "merchant (id or name)/platform; several accepted values as a|b."),
    price_min: str | None = typer.Option(None, "--price-min", help="Minimum price in major units, e.g. 20."),
    price_max: str | None = typer.Option(None, "--price-max", help="Maximum price in major units, e.g. 40.00."),
    currency: str | None = typer.Option(None, "--currency", help="Currency of --price-min/--price-max (a bound "
                                        "holds only in its own currency; none = any currency)."),
    in_stock: bool = typer.Option(False, "--in-stock", help="Only variants the merchant reports available."),
    buyable_only: bool = typer.Option(False, "--buyable-only", help="Drop results that cannot be bought now."),
    near: bool = typer.Option(False, "--near", help="Append near matches (some constraint unmet) after exact ones."),
    cursor: str | None = typer.Option(None, "--cursor", help="Next page: the cursor a previous answer printed."),
    facets: str = typer.Option("", "--facets", help="Facets to count over the exact matches, comma-separated: "
                               "color,size,material,vendor,merchant,platform,price,availability."),
    sort: str = typer.Option("relevance", "--sort", help="relevance, price_asc, price_desc or newest."),
    explain: bool = typer.Option(False, "--explain", help="Per result: scores, constraints met/missed, why this "
                                 "variant."),
    highlight: bool = typer.Option(False, "--highlight", help="Mark the query's words [[like this]] in titles and "
                                   "descriptions."),
    buyable_first: bool = typer.Option(True, "--buyable-first/--no-buyable-first", help="Buyable results first "
                                       "among results of similar relevance."),
    as_json: bool = typer.Option(False, "--json", help="Print the SearchResponse JSON."),
    interactive: bool = typer.Option(False, "--interactive", "-i", help="Read one query per line from stdin and "
                                     "answer each with the same options, keeping the engine loaded (empty line, "
                                     "'quit' or end of input stops)."),
    local: bool = typer.Option(False, "--local", help="Answer in this process even when an `aisle serve` runs on "
                               "the workspace (by default a running one answers: no model load here)."),
) -> None:
    """Search the current snapshot: every result is a product with ONE variant that meets every constraint,
    its price, and whether it can be bought now (and why not).

    When `aisle serve` runs on the same workspace (it writes <home>/serve.json) and serves its current
    snapshot, the query is sent to it and answered warm, with the same response; otherwise the snapshot is
    loaded here (the model only when a query needs vectors). --interactive keeps one engine for many queries.
    """
    if mode not in ("hybrid", "bm25", "dense"):
        raise ConfigError(f"--mode must be hybrid, bm25 or dense, got {mode!r}")
    options = {"country": country, "limit": limit, "mode": mode, "buyable_only": buyable_only, "include_near": near,
               "filters": _filters(filters, price_min, price_max, currency, in_stock),
               "currency": currency.upper() if currency else None, "sort": sort,
               "facets": [f.strip() for f in facets.split(",") if f.strip()], "explain": explain,
               "highlight": highlight, "buyable_first": buyable_first}
    answer = _answerer(local)
    if not interactive:
        _print(answer(_request(query, cursor, options)), as_json)
        return
    _repl(answer, options, as_json, first=query)


def _request(query: str, cursor: str | None, o: dict[str, Any]) -> SearchRequest:
    try:
        context = Context(country=o["country"], currency=o["currency"])
        return SearchRequest(query=query, cursor=cursor, context=context,
                             **{k: v for k, v in o.items() if k not in ("country", "currency")})
    except ValidationError as exc:  # query too long, limit out of range, bad country: worded as the API words it
        raise config_error(exc) from None


def _answerer(local: bool) -> Callable[[SearchRequest], SearchResponse]:
    """A running `aisle serve` of the workspace when there is one (and not ``local``), else a local engine
    opened on first use."""
    from cli.main import State
    from search.serve.discovery import find_live, remote_search

    workspace = State.workspace(read_only=True)
    live = None if local else find_live(workspace)
    if live is not None:
        return lambda request: remote_search(live, request)
    engine: list[Any] = []

    def answer(request: SearchRequest) -> SearchResponse:
        if not engine:
            from search.engine import Engine

            engine.append(Engine.open(workspace, settings=State.engine_settings()))
        return cast(SearchResponse, engine[0].search(request))

    return answer


def _print(resp: SearchResponse, as_json: bool) -> None:
    if as_json:
        print(clean(resp).model_dump_json())  # the same edge sanitiser as every other surface
    else:
        print_search(resp)


def _repl(answer: Callable[[SearchRequest], SearchResponse], options: dict[str, Any], as_json: bool,
          first: str = "") -> None:
    """One query per line; a bad query prints its error and the loop goes on."""
    import sys

    from indexer.errors import AisleError

    prompt = sys.stdin.isatty()
    pending = [first] if first.strip() else []
    while True:
        try:
            line = pending.pop() if pending else input("aisle> " if prompt else "")
        except EOFError:
            break
        if line.strip() in ("", "quit", "exit"):
            break
        try:
            _print(answer(_request(line.strip(), None, options)), as_json)
        except AisleError as exc:
            print(json.dumps({"error": exc.to_dict()}) if as_json else f"error: {exc.message}", flush=True)
        sys.stdout.flush()


def register(app: typer.Typer) -> None:
    """Add ``aisle search`` to the CLI."""
    app.command("search")(search)
