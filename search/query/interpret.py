"""A request → what the engine will do: the words to rank by, the constraints to enforce, the country.

Rules (echoed to the caller as ``interpreted`` so an agent can see and correct them):

* The query is read by :func:`search.query.parse.parse_query` (prices, colours, sizes, materials, brands,
  "in stock", the destination country, loose option words). What it extracts leaves the text;
  what it does not understand stays in it.
* **Explicit filters override parsed ones, per key**: an explicit ``attributes["color"]`` replaces
  a parsed colour (keys compare by canonical attribute, so ``colour`` replaces ``color``); an
  explicit empty list removes the parsed constraint. ``vendor``, ``price`` and ``available_only``
  replace their parsed counterparts when the request sets them at all. Product types named in the
  query are ranking evidence only; ``product_type`` filters come from explicit filters.
* **Country**: a destination named in the query ("shipped to Canada", "I'm in Vietnam") wins over
  ``context.country``: the shopper's words are this request's intent, the context is a default.
  A named destination is also a *constraint*: results must ship there (merchants without a published
  ship-to list are kept, flagged ``ships_to_unknown``). A context country only decides eligibility
  (``not_shipping_to_country``). ``interpreted.country`` and ``country_source`` say which applied.
* Explicit colours and materials are widened to their other-language forms in the built-in
  lexicon (``color=red`` also accepts "Rot", "rouge"), as the parser does for the shopper's words.
* Colour families (:mod:`search.query.colours`): a colour word, parsed or explicit, also accepts the
  catalog's values of its family or shade in every language ("green" → Forest Green, Olive, Oliv;
  "blue" → Cobalt, Blau); echoed per word as ``colours`` (family and values).
* Lexicon (:mod:`search.query.synonyms`, :mod:`search.query.spelling`): known Japanese words are read
  in English first; typos in the remaining text are corrected against the catalog's words (echoed as
  ``corrected``) and synonyms/translations are added to the ranking text (echoed as ``expanded``).
* ``filters.merchant`` takes a merchant's id or its name (compared by the one label key,
  :func:`search.filter.keys.label_key`, as vendors are: case, spacing and accents aside); the echo gives the
  ids the values resolved to. A value that matches no merchant stays a constraint (nothing matches it, as
  with any filter) and ``notes`` says so, so an agent can tell a typo from an empty shelf.
* An explicit filter key that names no attribute in the index is refused
  (:class:`QueryError` ``unknown_filter``, listing the known ones); ``color``, ``size`` and
  ``material`` are always accepted (the text fallback can serve them).
* The words used for ranking are the remaining text plus the colour and material words of the
  constraints, as the shopper wrote them (not sizes, prices or countries), when
  ``EngineSettings.rank_with_constraint_words`` is on (default): every allowed product already meets
  the constraints, and products that *say* "red wool" rank above those that only have a red variant.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from indexer.attributes import canonical_attribute, normalize_value
from indexer.errors import AisleError, QueryError
from search.filter.catalog import CatalogArrays
from search.filter.constraints import AttrConstraint, Constraints, make_attr_constraint, norm_label
from search.query.colours import widen_colour_constraint
from search.query.exclusions import read_extras
from search.query.spelling import speller_for
from search.query.synonyms import expansions, translate_script
from search.schema import Filters, PriceFilter, SearchRequest

log = logging.getLogger(__name__)

ALWAYS_KNOWN = ("color", "size", "material")


@dataclass(frozen=True, slots=True)
class Interpretation:
    text: str  # the query text left after parsing
    ranking_text: str  # the words retrieval ranks by
    filters: Filters  # merged constraints, echoed
    constraints: Constraints
    country: str
    hints: tuple[str, ...]
    country_source: str = "context"  # "query": the shopper named it, results must ship there
    sort: str | None = None  # "price_asc": "cheapest"
    notes: tuple[str, ...] = ()  # unread or loosely read words (search.query.notes)
    preferences: dict[str, list[str]] | None = None  # the buyer's soft preferences, echoed
    corrected: tuple[tuple[str, str], ...] = ()  # typo → catalog word (search.query.spelling)
    colours: tuple[Any, ...] = ()  # search.query.colours.ColourEcho: each colour word's family and values
    expanded: tuple[str, ...] = ()  # synonyms/translations added to the ranking text (search.query.synonyms)
    languages: tuple[str, ...] = ()  # what the ranking words were read in (read_languages), echoed


def _parse(query: str, vocabulary: Any, currency: str) -> Any:
    """The parser's reading; a parser failure on odd input degrades to "all text", never an exception."""
    try:
        from search.query.parse import parse_query
    except ImportError:  # the parser is optional for the engine: plain text search still works
        return None
    try:
        return parse_query(query, vocabulary, default_currency=currency)
    except AisleError:
        raise
    except Exception:  # a parser bug must not turn a shopper's words into a 500
        log.exception("query parser failed on %r; searching the raw text", query[:200])
        return None


def known_attributes(cat: CatalogArrays) -> list[str]:
    """Canonical attributes present in the index (most variants first), plus the always-known ones."""
    counts = sorted(((len(v), k) for k, v in cat.attr_postings.items()), reverse=True)
    out = [k for _, k in counts]
    return out + [k for k in ALWAYS_KNOWN if k not in out]


def _check_known(keys: Sequence[str], cat: CatalogArrays) -> None:
    known = set(cat.attr_postings) | set(ALWAYS_KNOWN)
    bad = [k for k in keys if canonical_attribute(k) not in known]
    if bad:
        names = known_attributes(cat)
        shown = ", ".join(names[:40]) + (f" (and {len(names) - 40} more)" if len(names) > 40 else "")
        raise QueryError(f"unknown filter {', '.join(repr(b) for b in bad)}; known filters: {shown}",
                         code="unknown_filter")


def _forms(key: str, values: Sequence[str]) -> list[str]:
    """An explicit colour or material in every language the built-in lexicon knows ("red" → rot, rouge...).

    The parser does the same for the shopper's words, so ``color=red`` finds a German store's "Rot".
    """
    from search.query.lexicon import lexicon

    lex = lexicon()
    attr = canonical_attribute(key)
    out = list(values)
    for v in values:
        low = normalize_value(v)
        if attr == "color" and (c := lex.colour(low)):
            out += lex.colour_forms(c)
        elif attr == "material" and (c := lex.materials.get(low)):
            out += lex.material_forms(c)
    return list(dict.fromkeys(out))


def _merge_attributes(parsed: Mapping[str, Sequence[str]], explicit: Filters | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {k: [str(x) for x in v] for k, v in parsed.items() if v}
    if explicit is None:
        return out
    for key, values in explicit.attributes.items():
        canon = canonical_attribute(key)
        for k in [k for k in out if canonical_attribute(k) == canon]:
            del out[k]
        if values:
            out[key] = [str(v) for v in values]
    return out


def _describing_words(parsed: Any, explicit: Filters | None, text: str) -> list[str]:
    """Colour and material words to rank by: the shopper's own words (parser spans), else explicit values.

    Sizes, prices and countries are left out: every allowed product already has the size, and those
    words only add noise to BM25 and the embedding. Translations the parser added are left out too.
    """
    words: list[str] = []
    if explicit is not None:
        for key, values in explicit.attributes.items():
            if canonical_attribute(key) in ("color", "material"):
                words += [str(v) for v in values]
    explicit_keys = {canonical_attribute(k) for k in (explicit.attributes if explicit else {})}
    for span in getattr(parsed, "spans", ()) or ():
        kind, surface = (span[0], span[1]) if len(span) >= 2 else ("", "")
        attr = "material" if kind in ("material", "soft_material") else kind
        if attr in ("color", "material") and attr not in explicit_keys:
            words.append(str(surface))
    low = text.lower()
    return [w for w in dict.fromkeys(words) if w and w.lower() not in low]


def _filters(parsed: Any, explicit: Filters | None, attributes: dict[str, list[str]],
             exclude: Any) -> Filters:
    """The request's filters: explicit ones win field by field over what the parser read."""
    fields_set = explicit.model_fields_set if explicit is not None else set()
    vendors = list(explicit.vendor or []) if "vendor" in fields_set and explicit else list(
        getattr(parsed, "vendors", ()) or ())
    # Product types the parser recognises are evidence for ranking (they stay in the text), not filters.
    ptypes = list(explicit.product_type or []) if explicit else []
    if explicit is not None and "price" in fields_set:
        price = explicit.price
    else:
        pmin, pmax = getattr(parsed, "price_min", None), getattr(parsed, "price_max", None)
        pcur = getattr(parsed, "currency", None)
        price = PriceFilter(min=pmin, max=pmax, currency=pcur) if (pmin is not None or pmax is not None) else None
    if explicit is not None and "available_only" in fields_set:
        available_only = explicit.available_only
    else:
        available_only = bool(getattr(parsed, "available_only", False))
    return Filters(
        attributes=attributes,
        vendor=vendors or None,
        product_type=ptypes or None,
        merchant=list(explicit.merchant or []) or None if explicit else None,
        platform=list(explicit.platform or []) or None if explicit else None,  # type: ignore[arg-type]
        price=price,
        available_only=available_only,
        exclude=exclude,
    )


def _merchant_ids(values: Sequence[str], cat: CatalogArrays) -> tuple[list[str], tuple[str, ...]]:
    """``filters.merchant`` values → merchant ids (an id as given, else every merchant whose id or name has the
    value's label key), and a note for each value that matches no merchant (kept as given)."""
    ids: list[str] = []
    notes: list[str] = []
    for value in values:
        found = [value] if value in cat.merchants else list(cat.merchant_keys.get(norm_label(value), ()))
        if not found:
            notes.append(f"merchant {value!r} matches no merchant id or name in the index (the filter keeps it: "
                         "nothing matches it)")
        ids += found or [value]
    return list(dict.fromkeys(ids)), tuple(notes)


def _constraints(filters: Filters, explicit: Filters | None, *, fallback_attrs: frozenset[str] | None,
                 vendor_in_title: bool, exclude: Any) -> Constraints:
    """The filter's normalised form: one key per value (search.filter.keys), explicit values in every form."""
    explicit_keys = {canonical_attribute(k) for k in (explicit.attributes if explicit else {})}
    price = filters.price
    return Constraints(
        attributes=tuple(make_attr_constraint(k, _forms(k, v) if canonical_attribute(k) in explicit_keys else v,
                                              fallback_attrs=fallback_attrs) for k, v in filters.attributes.items()),
        vendors=tuple(dict.fromkeys(norm_label(v) for v in filters.vendor or [] if v.strip())),
        product_types=tuple(dict.fromkeys(norm_label(t) for t in filters.product_type or [] if t.strip())),
        merchants=tuple(filters.merchant or []),
        platforms=tuple(filters.platform or []),
        price_min=price.min if price else None,
        price_max=price.max if price else None,
        currency=(price.currency.upper() if price and price.currency else None),
        available_only=filters.available_only,
        vendor_in_title=vendor_in_title,
        exclude=exclude,
    )


def explicit_attr_constraint(name: str, value: str, cat: CatalogArrays, *,
                             fallback_attrs: frozenset[str] | None) -> AttrConstraint:
    """The constraint an explicit filter ``attributes: {name: [value]}`` builds (as :func:`interpret` does):
    the value in every language the lexicon knows and, for a colour, its family. Facets count with it."""
    ac = make_attr_constraint(name, _forms(name, [value]), fallback_attrs=fallback_attrs)
    cons, _ = widen_colour_constraint(Constraints(attributes=(ac,)), None, Filters(attributes={name: [value]}),
                                      cat.attr_postings.get("color", {}), fallback_attrs)
    return cons.attributes[0]  # type: ignore[no-any-return]


def interpret(
    request: SearchRequest,
    vocabulary: Any,
    cat: CatalogArrays,
    *,
    fallback_attrs: frozenset[str] | None,
    vendor_in_title: bool,
    rank_with_constraint_words: bool,
) -> Interpretation:
    """Parse the query, merge the explicit filters, resolve the country (rules in the module docstring)."""
    explicit = request.filters
    if explicit is not None:
        _check_known([*explicit.attributes, *explicit.exclude], cat)
    currency = request.context.currency or "USD"
    query = translate_script(request.query)  # known Japanese words → English, before the parser reads them
    parsed = _parse(query, vocabulary, currency) if query.strip() else None
    text = str(getattr(parsed, "text", query) if parsed is not None else query).strip()
    speller = speller_for(cat.products)
    text, corrected = speller.correct(text)
    p_attrs: Mapping[str, Sequence[str]] = getattr(parsed, "attributes", None) or {}
    ex = read_extras(parsed, explicit, request.context, cat, fallback_attrs)  # exclusions, sort, notes

    filters = _filters(parsed, explicit, _merge_attributes(p_attrs, explicit), ex.exclude)
    notes = ex.notes
    if filters.merchant:
        merchant_ids, merchant_notes = _merchant_ids(filters.merchant, cat)
        filters, notes = filters.model_copy(update={"merchant": merchant_ids}), notes + merchant_notes
    constraints = _constraints(filters, explicit, fallback_attrs=fallback_attrs, vendor_in_title=vendor_in_title,
                               exclude=ex.exclude_constraints)
    constraints, colours = widen_colour_constraint(constraints, parsed, explicit, cat.attr_postings.get("color", {}),
                                                   fallback_attrs)
    parsed_country = getattr(parsed, "country", None)
    country = (parsed_country or request.context.country or "US").upper()
    if parsed_country:  # the shopper named the destination: a constraint, not just eligibility
        constraints = replace(constraints, ship_to=country)
    hints = tuple(str(h) for h in (getattr(parsed, "hints", ()) or ()) if str(h).strip())
    ranking = text
    if rank_with_constraint_words:
        ranking = " ".join([text, *_describing_words(parsed, explicit, text)]).strip()
    expanded = tuple(expansions(text, speller.frequency))
    ranking = " ".join([ranking, *expanded]).strip()
    return Interpretation(text=text, ranking_text=ranking, filters=filters, constraints=constraints,
                          country=country, hints=hints, country_source="query" if parsed_country else "context",
                          sort=ex.sort, notes=notes, preferences=ex.preferences,
                          corrected=tuple(corrected.items()), colours=tuple(colours), expanded=expanded)


def read_languages(it: Interpretation, lexical: Any) -> Interpretation:
    """``it`` with the languages its ranking words are read in by ``lexical`` (the snapshot's BM25 index or its
    sharded proxy: :meth:`indexer.build.lexical.LexicalIndex.query_languages`), the language the words point to
    first, then English (always read). No ranking words: none. An index that reads every query in English (an
    ``aisle-v1`` snapshot) says ``("en",)``."""
    text = it.ranking_text.strip()
    if not text:
        return replace(it, languages=())
    reader = getattr(lexical, "query_languages", None)
    langs = tuple(reader(text)) if reader is not None else ("en",)
    return replace(it, languages=(*(lang for lang in langs if lang != "en"), "en"))
