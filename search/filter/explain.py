"""What ``explain=true`` says about one result's variant: the constraints it meets and why it was chosen.

* :func:`constraint_names` lists a request's constraints under the names :func:`search.filter.variants.variant_unmet`
  uses (the attribute filter keys as given, ``exclude.<key>``, ``price``, ``available``, ``vendor``,
  ``product_type``, ``merchant``, ``platform``, ``country``), so ``met`` + ``unmet`` is every constraint.
* :func:`variant_reason` says which rule of :func:`search.filter.variants.choose_variant` decided between the
  candidates (the first key on which the chosen variant beats the runner-up).
"""

from __future__ import annotations

from collections.abc import Sequence

from search.filter.catalog import CatalogArrays
from search.filter.constraints import Constraints
from search.filter.variants import choice_keys

_BECAUSE = (
    "its option values best match the query's loose words ({hints})",
    "its option values share the most words with the query",
    "it is in stock and the other candidates are not",
    "it is the cheapest of the candidates",
    "it comes first in the merchant's own order among equal candidates",
)


def constraint_names(cons: Constraints) -> list[str]:
    """Every constraint of ``cons`` by the name ``unmet`` would give it."""
    out = [ac.label for ac in cons.attributes] + [f"exclude.{ac.label}" for ac in cons.exclude]
    flags = (("price", cons.has_price), ("available", cons.available_only), ("vendor", bool(cons.vendors)),
             ("product_type", bool(cons.product_types)), ("merchant", bool(cons.merchants)),
             ("platform", bool(cons.platforms)), ("country", bool(cons.ship_to)))
    return out + [name for name, on in flags if on]


def variant_reason(cat: CatalogArrays, row: int, candidates: Sequence[int], chosen: int, *, exact: bool,
                   hints: Sequence[str] = (), text: str = "", buyable_preferred: bool = False) -> str:
    """Why ``chosen`` was returned among ``candidates`` (variants of ``row``), in one sentence."""
    pool = "variants meeting every constraint" if exact else "variants missing the fewest constraints"
    lead = " (buyable ones preferred)" if buyable_preferred else ""
    n_variants = len(cat.variants_of(row))
    if len(candidates) <= 1:
        if n_variants == 1:
            return "the product's only variant"
        return f"the only one of the product's {n_variants} variants among the {pool}{lead}"
    keys = choice_keys(cat, row, candidates, hints=hints, text=text)
    mine = keys[chosen]
    runner = min((k for v, k in keys.items() if v != chosen), default=mine)
    why = next((i for i, (a, b) in enumerate(zip(mine, runner, strict=True)) if a != b), len(_BECAUSE) - 1)
    because = _BECAUSE[why].format(hints=", ".join(repr(h) for h in hints))
    return f"chosen among {len(candidates)} {pool}{lead}: {because}"
