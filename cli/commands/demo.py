"""``aisle demo``: the whole pipeline on the bundled sample catalog, end to end, on loopback.

1. serve ``data/sample`` with the storefront simulator on a free 127.0.0.1 port;
2. connect one sample Etsy shop (the owner's OAuth grant, PKCE flow against the simulator) and leave the
   other public, then crawl every store and shop into the workspace catalog (the simulator's host is
   allow-listed): the connected shop is read with its variants, the public one at listing level;
3. index it (the real embedding model, offline);
4. answer example chat queries through the engine and print the answers;
5. live re-check the first buyable answer against the (still running) merchant, then stop the simulator.

The workspace is ``--home`` as for every command (default ``./.aisle``). Re-running is cheap: the
crawl is incremental and the index reuses its embedding cache.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.rule import Rule

from cli.output import clean, console, print_check, print_search

if TYPE_CHECKING:
    from indexer.storefront import RunningStorefront
    from indexer.workspace import Workspace
    from search.engine import Engine

# The sample catalog shipped with the repository (data/sample), found from the installed package.
DEFAULT_CATALOG = Path(__file__).resolve().parents[2] / "data" / "sample"
DEMO_ETSY_KEY = "aisle-demo:not-a-secret"  # the simulator only checks the keystring:secret form

EXAMPLE_QUERIES: tuple[tuple[str, str], ...] = (
    ("red wool beanie size M under $40 shipped to Canada", "US"),
    ("waterproof hiking boots size 10", "US"),
    ("ceramic mug gift under 20 pounds", "GB"),
    ("pull en laine bleu taille M", "FR"),
    ("walnut cutting board that ships to Australia", "US"),
)


def _crawl(ws: Workspace, sf: RunningStorefront, show: bool) -> dict[str, Any]:
    """Step 2: crawl every simulated store and shop into the workspace catalog."""
    from cli.progress import progress_bars
    from indexer.crawl.run import CrawlSettings, crawl
    from indexer.crawl.targets import Target
    from indexer.store.store import Store

    targets = [Target.shopify(sf.shopify_url(s)) for s in sf.shopify_slugs]
    targets += [Target.etsy(i) for i in sf.etsy_shop_ids.values()]
    settings = CrawlSettings(delay=0.0, timeout=10.0, etsy_api=sf.etsy_api, etsy_api_key=DEMO_ETSY_KEY,
                             allow_hosts=("127.0.0.1",), etsy_tokens=str(ws.home))
    if show:
        console.print(Rule(f"2. crawl {len(targets)} merchants into {ws.catalog_db}"))
    access = _connect_one(ws, sf, show)
    with Store.open(ws.catalog_db) as store, progress_bars("crawl", show) as bars:
        report = crawl(targets, store, settings=settings, progress=bars)
    if show:
        console.print(f"{report.products} products from {len(report.merchants)} merchants "
                      f"in {report.seconds:.1f} s (complete: {report.complete})")
    return {**report.to_dict(), "etsy_access": access}


def _connect_one(ws: Workspace, sf: RunningStorefront, show: bool) -> dict[str, str]:
    """Connect the first sample Etsy shop (as its owner approving on the simulator's consent page would;
    the redirect is read as a pasted URL) and disconnect the others: ``{shop_id: "connected" | "public"}``."""
    import asyncio

    import httpx

    from indexer.crawl import etsy_auth
    from indexer.crawl.netguard import HostGuard

    store = etsy_auth.TokenStore(ws.home)
    ids = [str(sf.etsy_shop_ids[slug]) for slug in sorted(sf.etsy_shop_ids, reverse=True)]  # wildthread first
    pending = etsy_auth.begin(sf.etsy_api, DEMO_ETSY_KEY, ids[0], "http://127.0.0.1:9/callback")
    guard = HostGuard(("127.0.0.1",))
    guard.check_sync(pending.url)
    with httpx.Client(trust_env=False, follow_redirects=False, timeout=10.0) as http:
        redirected = http.get(pending.url).headers.get("location", "")
    code = etsy_auth.code_from_redirect(pending, redirected)
    store.save(asyncio.run(etsy_auth.exchange(pending, code, guard)))
    for other in ids[1:]:
        store.delete(other)
    access = {sid: "connected" if i == 0 else "public" for i, sid in enumerate(ids)}
    if show:
        console.print("Etsy: " + ", ".join(f"shop {sid} {how}" for sid, how in access.items())
                      + " (a public shop's listings with variations answer at listing level: variants_unknown)")
    return access


def _index(ws: Workspace, model: str | None, show: bool) -> dict[str, Any]:
    """Step 3: build and switch to a new snapshot."""
    from cli.progress import progress_bars
    from indexer.build.index import index_workspace

    if show:
        console.print(Rule("3. index (embeddings + FAISS + BM25 snapshot)"))
    with progress_bars("build", show) as bars:
        report = index_workspace(ws, model, progress=bars)
    if show:
        console.print(f"snapshot {report.version}: {report.products} products ({report.status})")
    return report.to_dict()


def _where(buyer: str, country: str) -> str:
    """The country the answer is for: the buyer's, or the one the query named instead (which wins)."""
    return f"for {country}" if country == buyer else f"for {country}: the query names it over the buyer's {buyer}"


def _ask(engine: Engine, questions: list[tuple[str, str]], limit: int, show: bool) -> list[dict[str, Any]]:
    """Step 4: the chat queries, answered (and printed) through the edge sanitiser."""
    from search.schema import Context, SearchRequest

    if show:
        console.print(Rule("4. chat queries"))
    answers = []
    for text, buyer in questions:
        resp = clean(engine.search(SearchRequest(query=text, context=Context(country=buyer), limit=limit)))
        answers.append(resp.model_dump(mode="json"))
        if show:
            console.print(f"\n[bold]> {escape(text)}[/bold]  ({_where(buyer, resp.interpreted.country)})")
            print_search(resp, console, more="--limit")
    return answers


def _recheck(engine: Engine, answers: list[dict[str, Any]], show: bool) -> dict[str, Any] | None:
    """Step 5: re-check the first answer an agent would buy (the top eligible result of the first query)."""
    from search.schema import CartItem, CheckRequest

    first = next((a for a in answers if any(r["buy"]["eligible"] for r in a["results"])), None)
    if first is None:
        return None
    hit = next(r for r in first["results"] if r["buy"]["eligible"])
    check = clean(engine.check(CheckRequest(
        items=[CartItem(variant_id=hit["variant"]["id"], doc_id=hit["doc_id"])],
        country=first["interpreted"]["country"])))
    if show:
        console.print(Rule("5. live re-check of the first buyable answer against the merchant"))
        print_check(check, console)
    return check.model_dump(mode="json")


def demo(
    catalog: Path = typer.Option(DEFAULT_CATALOG, "--catalog", help="Catalog directory to serve (Shopify/Etsy)."),
    query: list[str] = typer.Option([], "--query", "-q", help="Ask this instead of the example queries (repeatable)."),
    country: str = typer.Option("US", "--country", help="Buyer country for --query questions."),
    limit: int = typer.Option(3, "--limit", "-n", help="Answers shown per query."),
    model: str | None = typer.Option(None, "--model", help="Embedding model name or path (default: bundled MiniLM)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document (crawl, index, answers, check)."),
) -> None:
    """Serve the sample catalog on loopback, crawl it, index it and answer example chat queries."""
    from cli.main import State
    from indexer.errors import ConfigError
    from indexer.storefront import running_storefront
    from search.engine import Engine, EngineSettings

    if not catalog.is_dir():
        raise ConfigError(f"catalog directory not found: {catalog}")
    ws = State.workspace()
    questions = [(q, country) for q in query] or list(EXAMPLE_QUERIES)
    show = not as_json
    out: dict[str, object] = {"workspace": str(ws.home)}
    with running_storefront(catalog) as sf:
        if show:
            console.print(Rule(f"1. storefront simulator serving {catalog} at {sf.base_url}"))
        out["crawl"] = _crawl(ws, sf, show)
        out["index"] = _index(ws, model, show)
        engine = Engine.open(ws, settings=EngineSettings(etsy_api_key=DEMO_ETSY_KEY, allow_hosts=("127.0.0.1",),
                                                         etsy_tokens=str(ws.home)))
        answers = _ask(engine, questions, limit, show)
        out["answers"] = answers
        check = _recheck(engine, answers, show)
        if check is not None:
            out["check"] = check
    if as_json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        console.print(Rule("done: storefront stopped"))


def register(app: typer.Typer) -> None:
    """Add ``aisle demo`` to the CLI."""
    app.command("demo")(demo)
