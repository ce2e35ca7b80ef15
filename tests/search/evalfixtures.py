"""A small real ``run_query`` callable for evaluation tests: canned results served as SearchResponses.

It pages like the engine (``limit`` + an offset ``cursor``), so evaluation code paths that follow
cursors are exercised without the engine.
"""

from __future__ import annotations

from collections.abc import Callable

from indexer.errors import QueryError
from search.schema import (
    BuyInfo,
    Filters,
    Interpreted,
    MerchantOut,
    Money,
    Result,
    SearchRequest,
    SearchResponse,
    VariantOut,
)


def result(doc_id: str, score: float = 1.0, *, options: dict[str, str] | None = None, price: int | None = 1000,
           currency: str = "USD", available: bool = True, eligible: bool = True,
           reasons: list[str] | None = None, vendor: str | None = None) -> Result:
    """A search result as the engine returns it."""
    return Result(
        doc_id=doc_id, title=doc_id, platform="shopify", merchant=MerchantOut(id="m", name="M"),
        url=f"https://m.example/{doc_id}", score=score,
        variant=VariantOut(id=f"v-{doc_id}", title="v", options=options or {},
                           price=Money(amount=price, currency=currency) if price is not None else None,
                           available=available),
        buy=BuyInfo(eligible=eligible, reasons=reasons or [], checkout_url=None, checked_at="2026-01-01T00:00:00Z"),
        vendor=vendor,
    )


def fixture_engine(table: dict[str, list[Result]], *, by_mode: dict[str, dict[str, list[Result]]] | None = None,
                   country: str | None = None, refuse: set[str] | None = None,
                   calls: list[SearchRequest] | None = None) -> Callable[[SearchRequest], SearchResponse]:
    """A run_query over canned results keyed by query text (optionally per mode)."""

    def run_query(req: SearchRequest) -> SearchResponse:
        if calls is not None:
            calls.append(req)
        if refuse and req.query in refuse:
            raise QueryError(f"cannot answer {req.query!r}")
        rows = (by_mode or {}).get(req.mode, table).get(req.query, [])
        start = int(req.cursor or 0)
        page = rows[start:start + req.limit]
        nxt = str(start + req.limit) if start + req.limit < len(rows) else None
        return SearchResponse(
            query=req.query,
            interpreted=Interpreted(text=req.query, filters=req.filters or Filters(),
                                    country=country or req.context.country),
            results=page, next_cursor=nxt,
        )

    return run_query
