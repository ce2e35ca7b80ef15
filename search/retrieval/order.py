"""The order of an answer after ranking: an explicit ``sort``, and ``buyable_first`` within similar relevance.

An answer is a list of entries ``(row, score, exact)``: the exact results first, in relevance order, then the
near matches. Both functions here reorder the exact results only; near matches keep their own order after them.

* :func:`sort_exact` — ``price_asc`` / ``price_desc`` by the price of the variant each result returns, within
  one currency (no conversion): one currency first (the request's price or context currency, else the
  best-ranked result's), then the others alphabetically, each by price; results without a price come last.
  With ``rates`` (the request's exchange rates), prices in the currencies they name compare by converted amount.
  :func:`currency_note` says so in ``interpreted.notes`` when several currencies were ordered. ``newest``: by
  the product's last-modified time at the source (Shopify ``updated_at``, Etsy ``last_modified_timestamp``),
  most recent first; products without one last. Equal keys keep relevance order.
* :func:`buyable_first` — **similar relevance** is defined on the scores of the exact results (all pages):
  walking them in relevance order, a *band* starts at the first result not yet in one and takes every
  following result whose score is at most ``BUYABLE_BAND`` standard deviations of those scores below the
  band's first score (with fewer than three exact results, only equal scores). Within each band the buyable
  results (a qualifying variant eligible now, :func:`search.filter.eligibility.eligible_mask`) come first,
  each group in relevance order; bands never change places, so a clearly more relevant result stays ahead of
  a buyable one however the buyable one fares.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from indexer.attributes import currency_exponent

Entry = tuple[int, float, bool]
BUYABLE_BAND = 0.25  # standard deviations of the exact results' scores; see the module docstring


def _split(order: Sequence[Entry]) -> tuple[list[Entry], list[Entry]]:
    return [o for o in order if o[2]], [o for o in order if not o[2]]


def relevance_bands(scores: Sequence[float], band: float = BUYABLE_BAND) -> list[int]:
    """Band number of each score (scores in relevance order; see the module docstring)."""
    s = np.asarray(scores, dtype=np.float64)
    width = band * float(s.std()) if s.size >= 3 else 0.0
    out: list[int] = []
    top, number = float("inf"), -1
    for x in s.tolist():
        if x < top - width:  # outside the current band (every score is below +inf): a new band starts here
            top, number = x, number + 1
        out.append(number)
    return out


def buyable_first(order: Sequence[Entry], buyable: Callable[[int], bool],
                  band: float = BUYABLE_BAND) -> list[Entry]:
    """``order`` with the buyable exact results first within each relevance band (module docstring)."""
    exact, rest = _split(order)
    if len(exact) < 2:
        return list(order)
    bands = relevance_bands([o[1] for o in exact], band)
    keyed = sorted(range(len(exact)), key=lambda i: (bands[i], not buyable(exact[i][0]), i))
    return [exact[i] for i in keyed] + rest


def sort_exact(order: Sequence[Entry], sort: str, *, price_of: Callable[[int], tuple[str, int] | None],
               time_of: Callable[[int], float], first_currency: str | None,
               rates: Mapping[str, float] | None = None) -> tuple[list[Entry], list[str]]:
    """``order`` with its exact results sorted by ``sort``, and the currencies met in price order (for the note).

    ``rates`` (a common unit per major unit of each currency): prices in a currency with a rate compare by their
    converted amount, across currencies; those without one follow, by currency then amount.
    """
    exact, rest = _split(order)
    if sort == "newest":
        def newest(i: int) -> tuple[bool, float, int]:
            t = time_of(exact[i][0])
            return (t != t, -t if t == t else 0.0, i)  # NaN (unknown) last

        return [exact[i] for i in sorted(range(len(exact)), key=newest)] + rest, []
    prices = [price_of(o[0]) for o in exact]
    rate = {k.upper(): float(v) for k, v in (rates or {}).items()}
    first = (first_currency or next((p[0] for p in prices if p is not None and p[0].upper() not in rate), "")).upper()
    sign = -1 if sort == "price_desc" else 1

    def by_price(i: int) -> tuple[int, float, str, int, int]:
        p = prices[i]
        if p is None:
            return (3, 0.0, "", 0, i)
        cur = p[0].upper()
        if cur in rate:
            return (0, sign * p[1] / 10 ** currency_exponent(cur) * rate[cur], "", 0, i)
        return (1 if cur == first else 2, 0.0, cur, sign * p[1], i)

    ordered = sorted(range(len(exact)), key=by_price)
    currencies = list(dict.fromkeys("converted" if prices[i][0].upper() in rate else prices[i][0].upper()  # type: ignore[index]
                                    for i in ordered if prices[i] is not None))
    return [exact[i] for i in ordered] + rest, currencies


def currency_note(sort: str, currencies: Sequence[str], rates: Mapping[str, float] | None = None) -> str | None:
    """The note an answer carries when a price sort met several currencies (None when it compared like with like)."""
    way = "highest" if sort == "price_desc" else "lowest"
    if rates and "converted" in currencies:
        rest = [c for c in currencies if c != "converted"]
        tail = f"; currencies without a rate follow by currency, then amount: {', '.join(rest)}" if rest else ""
        return (f"sorted by price ({way} first) converted with the given rates "
                f"({', '.join(sorted(k.upper() for k in rates))}){tail}")
    if len(currencies) < 2:
        return None
    return (f"sorted by price ({way} first) within each currency: {', '.join(currencies)}, in that order; prices "
            "in different currencies are not compared (no conversion; give `rates` to compare them)")
