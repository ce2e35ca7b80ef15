"""``aisle demo``: the whole pipeline on the bundled sample catalog, end to end, on loopback.

1. serve ``data/sample`` with the storefront simulator on a free 127.0.0.1 port;
2. crawl every store and shop into the workspace catalog (the simulator's host is allow-listed);
3. index it (the real embedding model, offline);
4. answer example chat queries through the engine and print the answers;
5. live re-check the first buyable answer against the (still running) merchant, then stop the simulator.

The workspace is ``--home`` as for every command (default ``./.aisle``). Re-running is cheap: the
crawl is incremental and the index reuses its embedding cache.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.rule import Rule

console = Console()

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


def demo(
    catalog: Path = typer.Option(DEFAULT_CATALOG, "--catalog", help="Catalog directory to serve (Shopify/Etsy)."),
    query: list[str] = typer.Option([], "--query", "-q", help="Ask this instead of the example queries (repeatable)."),
    country: str = typer.Option("US", "--country", help="Buyer country for --query questions."),
    limit: int = typer.Option(3, "--limit", "-n", help="Answers shown per query."),
    model: str | None = typer.Option(None, "--model", help="Embedding model name or path (default: bundled MiniLM)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document (crawl, index, answers, check)."),
) -> None:
    """Serve the sample catalog on loopback, crawl it, index it and answer example chat queries."""
    from cli.commands.search import _print
    from cli.main import State
    from cli.progress import progress_bars
    from indexer.build.index import index_workspace
    from indexer.crawl.run import CrawlSettings, crawl
    from indexer.crawl.targets import Target
    from indexer.errors import ConfigError
    from indexer.store.store import Store
    from indexer.storefront import running_storefront
    from search.engine import Engine, EngineSettings
    from search.schema import CartItem, CheckRequest, Context, SearchRequest

    if not catalog.is_dir():
        raise ConfigError(f"catalog directory not found: {catalog}")
    ws = State.workspace()
    questions = [(q, country) for q in query] or list(EXAMPLE_QUERIES)
    show = not as_json
    out: dict[str, object] = {"workspace": str(ws.home)}
    with running_storefront(catalog) as sf:
        if show:
            console.print(Rule(f"1. storefront simulator serving {catalog} at {sf.base_url}"))
        targets = [Target.shopify(sf.shopify_url(s)) for s in sf.shopify_slugs]
        targets += [Target.etsy(i) for i in sf.etsy_shop_ids.values()]
        settings = CrawlSettings(delay=0.0, timeout=10.0, etsy_api=sf.etsy_api, etsy_api_key=DEMO_ETSY_KEY,
                                 allow_hosts=("127.0.0.1",))
        if show:
            console.print(Rule(f"2. crawl {len(targets)} merchants into {ws.catalog_db}"))
        with Store.open(ws.catalog_db) as store, progress_bars("crawl", show) as bars:
            crawl_report = crawl(targets, store, settings=settings, progress=bars)
        out["crawl"] = crawl_report.to_dict()
        if show:
            console.print(f"{crawl_report.products} products from {len(crawl_report.merchants)} merchants "
                          f"in {crawl_report.seconds:.1f} s (complete: {crawl_report.complete})")
            console.print(Rule("3. index (embeddings + FAISS + BM25 snapshot)"))
        with progress_bars("build", show) as bars:
            index_report = index_workspace(ws, model, progress=bars)
        out["index"] = index_report.to_dict()
        if show:
            console.print(f"snapshot {index_report.version}: {index_report.products} products "
                          f"({index_report.status})")
            console.print(Rule("4. chat queries"))
        engine = Engine.open(ws, settings=EngineSettings(etsy_api_key=DEMO_ETSY_KEY))
        answers = []
        for text, buyer in questions:
            resp = engine.search(SearchRequest(query=text, context=Context(country=buyer), limit=limit))
            answers.append(resp.model_dump(mode="json"))
            if show:
                console.print(f"\n[bold]> {text}[/bold]  (buyer in {buyer})")
                _print(resp)
        out["answers"] = answers
        # Re-check the first answer an agent would buy: the top eligible result of the first query.
        first = next((a for a in answers if any(r["buy"]["eligible"] for r in a["results"])), None)
        if first is not None:
            hit = next(r for r in first["results"] if r["buy"]["eligible"])
            check = engine.check(CheckRequest(
                items=[CartItem(variant_id=hit["variant"]["id"], doc_id=hit["doc_id"])],
                country=first["interpreted"]["country"]))
            out["check"] = check.model_dump(mode="json")
            if show:
                console.print(Rule("5. live re-check of the first buyable answer against the merchant"))
                for item in check.items:
                    state = "[green]eligible[/green]" if item.eligible else f"[red]{', '.join(item.reasons)}[/red]"
                    console.print(f"{item.title}: {state}; price {item.price.amount if item.price else '-'} "
                                  f"{item.price.currency if item.price else ''} (changed: {item.price_changed})")
                for co in check.checkouts:
                    console.print(f"checkout at {co.merchant.name}: {co.checkout_url}")
    if as_json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        console.print(Rule("done: storefront stopped"))


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
