"""The variant one result returns, and what the filter knows about it (called by :mod:`search.engine`).

* Exact result: the candidates are the product's variants meeting every constraint (``vmask``); near match:
  those (within ``extra``, e.g. ``buyable_only``) that miss the fewest constraints, named in ``unmet``.
* With ``buyable`` (the eligibility mask; ``buyable_first`` on), a candidate the buyer can buy now is preferred:
  when some candidates are buyable, only they are considered, so a result placed ahead as buyable shows a
  buyable variant.
* Among the candidates, :func:`search.filter.variants.choose_variant` decides (loose words, query words,
  stock, price, the merchant's order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from search.filter.catalog import CatalogArrays
from search.filter.constraints import Constraints
from search.filter.variants import choose_variant, variant_unmet


@dataclass(frozen=True, slots=True)
class Pick:
    """The chosen variant (flat index), the candidates it was chosen among, and the constraints it misses."""

    variant: int
    candidates: tuple[int, ...]
    unmet: tuple[str, ...]
    buyable_preferred: bool


def pick_variant(cat: CatalogArrays, row: int, cons: Constraints, *, exact: bool, vmask: np.ndarray | None,
                 extra: np.ndarray | None, buyable: np.ndarray | None, hints: Sequence[str] = (),
                 text: str = "") -> Pick:
    """The variant product ``row`` returns (module docstring)."""
    p = cat.products[row]
    span = cat.variants_of(row)
    fails: dict[int, list[str]] = {}
    if exact:
        cands = [v for v in span if vmask is None or vmask[v]]
    else:
        pool = [v for v in span if extra is None or extra[v]] or list(span)
        fails = {v: variant_unmet(cat, row, p.variants[v - span.start], cons) for v in pool}
        fewest = min(len(f) for f in fails.values())
        cands = [v for v in pool if len(fails[v]) == fewest]
    preferred = False
    if buyable is not None:
        ok = [v for v in cands if buyable[v]]
        preferred = bool(ok) and len(ok) < len(cands)
        cands = ok or cands
    v = choose_variant(cat, row, cands, hints=hints, text=text)
    return Pick(v, tuple(cands), tuple(fails.get(v, ())), preferred)


def row_buyable(cat: CatalogArrays, row: int, vmask: np.ndarray | None, buyable: np.ndarray) -> bool:
    """Whether product ``row`` has a qualifying variant (``vmask``; None = any) the buyer can buy now."""
    return any(buyable[v] and (vmask is None or vmask[v]) for v in cat.variants_of(row))
