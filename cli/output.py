"""Terminal output shared by commands: search answers and re-check results as people read them.

Every command that prints engine answers goes through here (``aisle search``, ``aisle demo``), and every
answer passes the edge sanitiser first (:func:`clean`, i.e. :func:`search.serve.sanitise.sanitised`), as
on the HTTP, MCP, UCP and ACP surfaces: merchant text reaches the terminal as plain text, with no
control characters (a title cannot drive the terminal with escape sequences) and, where it is printed
inside rich markup, escaped (a merchant's ``[red]`` is text, not a style).
"""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from indexer.attributes import currency_exponent
from search.schema import CheckResponse, Money, SearchResponse
from search.serve.sanitise import sanitised

console = Console()

M = TypeVar("M", bound=BaseModel)


def clean(response: M) -> M:
    """``response`` with its merchant text through the edge sanitiser (the same pass as over HTTP)."""
    return type(response).model_validate(sanitised(response))


def money(m: Money | None) -> str:
    """``40.00 USD`` from minor units (``-`` when there is no price)."""
    if m is None:
        return "-"
    exp = currency_exponent(m.currency)
    return f"{m.amount / 10**exp:,.{exp}f} {m.currency}"


def print_search(resp: SearchResponse, out: Console | None = None, *, more: str = "--cursor") -> None:
    """A search answer as a table: what was understood, then one row per result (product + variant).

    ``more`` is how the printing command asks for more results: ``"--cursor"`` (``aisle search``: the footer
    gives the next page's cursor) or another option such as ``"--limit"`` for a command that takes no cursor
    (``aisle demo``), so the footer never suggests an option the command does not have."""
    out = out or console
    resp = clean(resp)
    if resp.items:  # several items in one message: one answer each
        for item in resp.items:
            out.print(Text(f"item: {item.query}", style="bold"))
            print_search(SearchResponse(query=item.query, interpreted=item.interpreted, results=item.results,
                                        snapshot=resp.snapshot, took_ms=resp.took_ms), out, more=more)
        return
    it = resp.interpreted
    f = it.filters.model_dump(exclude_defaults=True, exclude_none=True)
    out.print(Text(f"text: {it.text!r}  country: {it.country}  filters: {json.dumps(f, ensure_ascii=False)}",
                   style="dim"))
    if any(lang != "en" for lang in it.languages):  # English is always read: said only when another is too
        out.print(Text(f"read in: {' + '.join(it.languages)}", style="dim"))
    for note in it.notes:
        out.print(Text(f"note: {note}", style="yellow"))
    if not resp.results:
        out.print("no results")
        return
    table = Table(show_lines=False)
    for col in ("#", "title", "merchant", "variant", "price", "buy"):
        table.add_column(col, overflow="fold")
    for i, r in enumerate(resp.results, 1):
        variant = escape(", ".join(f"{k}: {v}" for k, v in r.variant.options.items()) or "-")
        if not r.match.exact:
            variant += f"  [yellow](near: {escape(', '.join(r.match.unmet))} unmet)[/yellow]"
        buy = "[green]eligible[/green]" if r.buy.eligible else "[red]" + escape(", ".join(r.buy.reasons)) + "[/red]"
        table.add_row(str(i), Text(r.title), Text(r.merchant.name), variant, money(r.variant.price), buy)
    out.print(table)
    print_details(resp, out)
    footer = f"{len(resp.results)} results from snapshot {resp.snapshot} in {resp.took_ms:.1f} ms"
    if resp.next_cursor:
        footer += f"; more with --cursor {resp.next_cursor}" if more == "--cursor" else f"; more with a larger {more}"
    out.print(Text(footer, style="dim"))


def print_details(resp: SearchResponse, out: Console) -> None:
    """What a search printed beside its table when asked: highlights and explanations per result, then facets."""
    for i, r in enumerate(resp.results, 1):
        if r.highlight is not None:
            out.print(Text(f"{i}. {r.highlight.title}"), Text(f"   {r.highlight.description}", style="dim"), sep="\n")
        if r.explain is not None:
            e = r.explain
            scores = ", ".join(f"{k} {v:.3f}" for k, v in (("lexical", e.lexical), ("dense", e.dense),
                                                            ("fused", e.fused), ("score", e.score)) if v is not None)
            lines = [f"{i}. {scores}", f"   met: {', '.join(e.met) or '-'}"]
            lines += [f"   unmet: {', '.join(e.unmet)}"] if e.unmet else []
            lines += [f"   variant: {e.variant_reason}", *(f"   order: {o}" for o in e.order)]
            out.print(Text("\n".join(lines), style="dim"))
    for name, values in resp.facets.items():
        shown = ", ".join(f"{v.label or v.value} ({v.count})" for v in values) or "-"
        out.print(Text(f"facet {name}: {shown}"))


def print_check(check: CheckResponse, out: Console | None = None) -> None:
    """A live re-check: one line per item (eligible or why not, the live price), then the checkout links."""
    out = out or console
    check = clean(check)
    for item in check.items:
        state = "[green]eligible[/green]" if item.eligible else f"[red]{escape(', '.join(item.reasons))}[/red]"
        out.print(f"{escape(item.title or '')}: {state}; price {money(item.price)} (changed: {item.price_changed})")
    for co in check.checkouts:
        out.print(f"checkout at {escape(co.merchant.name)}: {escape(co.checkout_url or '')}")
