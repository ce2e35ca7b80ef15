"""The parts of a request's reading beyond the filters FOR something: exclusions, sort, notes, preferences.

One public entry point, :func:`read_extras`, called by :func:`search.query.interpret.interpret`.

* **Exclusions** ("a scarf, not black", or an explicit ``filters.exclude``): an explicit key replaces the
  parsed one (as for ``attributes``). A colour is widened to every catalog colour value of its shades
  (:func:`search.query.colours.colour_values`: "black" also excludes "Jet Black"; "blue" excludes "Navy")
  and to its other-language forms; the filter then rejects any variant showing one of them.
* **Sort**: "cheapest" → ``price_asc`` (exact results ordered by their cheapest qualifying variant).
* **Notes**: the parser's notes on unread words, plus the band an approximate price was read as.
* **Preferences** (``context.sizes``, ``budget``, ``brands``): echoed; applied by the engine as a soft
  reordering (:mod:`search.items`), never a filter. Nothing about the buyer is stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from indexer.attributes import canonical_attribute, normalize_value
from search.filter.catalog import CatalogArrays
from search.filter.constraints import AttrConstraint, make_attr_constraint
from search.schema import Context, Filters


@dataclass(frozen=True, slots=True)
class Extras:
    """Exclusions (echo + constraints), sort, notes and the buyer's soft preferences of one request."""

    exclude: dict[str, list[str]]
    exclude_constraints: tuple[AttrConstraint, ...]
    sort: str | None
    notes: tuple[str, ...]
    preferences: dict[str, list[str]]


def _colour_keys(word: str, cat: CatalogArrays) -> list[str]:
    from search.query.lexicon import lexicon

    out = [word]
    lex = lexicon()
    if (c := lex.colour(normalize_value(word))) is not None:
        out += [c, *lex.colour_forms(c)]
    try:
        from search.query.colours import colour_values
    except ImportError:  # the colour families are optional: the lexicon's forms still exclude
        return out
    return out + sorted(colour_values(word, cat.attr_postings.get("color", {})))


def resolve_exclusions(exclude: Mapping[str, Sequence[str]], cat: CatalogArrays,
                       fallback_attrs: frozenset[str] | None) -> tuple[AttrConstraint, ...]:
    """The filter constraints of ``exclude`` ({attribute: [values]}), colours widened (module docstring)."""
    out = []
    for key, values in exclude.items():
        if not values:
            continue
        if canonical_attribute(key) == "color":
            vals = list(dict.fromkeys(k for v in values for k in _colour_keys(str(v), cat)))
        else:
            vals = [str(v) for v in values]
        out.append(make_attr_constraint(key, vals, fallback_attrs=fallback_attrs))
    return tuple(out)


def _merge(parsed: Mapping[str, Sequence[str]], explicit: Filters | None) -> dict[str, list[str]]:
    out = {k: [str(x) for x in v] for k, v in parsed.items() if v}
    if explicit is not None:
        for key, values in explicit.exclude.items():
            for k in [k for k in out if canonical_attribute(k) == canonical_attribute(key)]:
                del out[k]
            if values:
                out[key] = [str(v) for v in values]
    return out


def _preferences(ctx: Context) -> dict[str, list[str]]:
    prefs: dict[str, list[str]] = {}
    if ctx.sizes:
        prefs["sizes"] = [s for s in ctx.sizes if s.strip()]
    if ctx.brands:
        prefs["brands"] = [b for b in ctx.brands if b.strip()]
    if ctx.budget is not None and (ctx.budget.min is not None or ctx.budget.max is not None):
        b = ctx.budget
        prefs["budget"] = [f"{b.min if b.min is not None else ''}..{b.max if b.max is not None else ''} "
                           f"{b.currency or 'any currency'}"]
    return {k: v for k, v in prefs.items() if v}


def read_extras(parsed: Any, explicit: Filters | None, ctx: Context, cat: CatalogArrays,
                fallback_attrs: frozenset[str] | None) -> Extras:
    """Exclusions, sort, notes and preferences of one request (module docstring)."""
    exclude = _merge(getattr(parsed, "exclude", None) or {}, explicit)
    notes = list(getattr(parsed, "notes", ()) or ())
    if getattr(parsed, "price_approx", False) and getattr(parsed, "price_min", None) is not None:
        notes.append(f"approximate price read as the band {parsed.price_min}..{parsed.price_max} "
                     f"{parsed.currency} (±20%)")
    return Extras(exclude=exclude, exclude_constraints=resolve_exclusions(exclude, cat, fallback_attrs),
                  sort=getattr(parsed, "sort", None), notes=tuple(notes), preferences=_preferences(ctx))
