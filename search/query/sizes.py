"""Size phrases of a query: after a size word, named sizes, letter codes, adjectives, measurements.

One public entry point, :func:`extract_sizes`; the rules are in :mod:`search.query.parse`'s docstring.
Values are the vocabulary's spellings, matched through :func:`search.query.vocabulary.size_key`; an age
in months matches in every language ("6-12 months" also takes the catalog's ``6-12-meses``, ``6-12 mois``,
``6-12 M``), as do letter sizes and their names ("XL" = "Extra Large").
"""

from __future__ import annotations

import re

from indexer.attributes import normalize_value
from search.query.lexicon import SIZE_ADJECTIVES, SIZE_WORDS
from search.query.state import Found, QueryState, before, closest_first
from search.query.state import alternation as _alt
from search.query.vocabulary import CompiledVocabulary, dimension_key, size_key

# ---------------------------------------------------------------- sizes
_NUMR = r"\d+(?:[.,]\d+)?(?:\s?(?:\d[/⁄]\d)(?![\d/]))?"
_UNIT = (r"(?:inches|inch|in(?!\s+\w)|\"|”|″|''|feet|foot|ft|'|’|cm|mm|ml|fl\.?\s?oz|oz|ounces?|litres?|liters?|"
         r"ltr|l|qt|quarts?|gallons?|gal|kg|g|lbs?|pack|pk|pcs|pieces?|count|seater|tiers?|mah|w|v|gb|tb|cups?|km/h)")
_AGE_UNIT = r"(?:months?|meses|mois|monate|luni|mesi|m|years?|yrs?|y|años|anos|ans|jahre|ani|t)"
_MEASURE = (rf"{_NUMR}\s?(?:{_UNIT}(?![\w]))?\s?[x×*]\s?{_NUMR}(?:\s?{_UNIT}(?![\w]))?(?:\s?[x×*]\s?{_NUMR}"
            rf"(?:\s?{_UNIT}(?![\w]))?)?"
            rf"|{_NUMR}\s?(?:-|–|to|a)\s?{_NUMR}\s?{_AGE_UNIT}(?![\w])"
            rf"|{_NUMR}\s?{_UNIT}(?![\w])")
_LETTERS = r"(?:xxs|xs|xxxxl|xxxl|xxl|xl|[2-6]xl|[2-6]x|s|m|l|p|g|gg)"
_ADJ = _alt(list(SIZE_ADJECTIVES) + ["one size", "queen", "king", "super king", "twin", "full", "double", "single"])
_SIZE_AFTER_WORD = re.compile(
    rf"(?<![\w])(?P<sw>{_alt(list(SIZE_WORDS))})\s*[:=#]?\s*(?P<v>{_ADJ}|{_MEASURE}|{_NUMR}(?:\s?(?:/|-)\s?{_NUMR})?"
    rf"|{_LETTERS})(?![\w])")
_STANDALONE_LETTERS = re.compile(r"(?<![\w\-/])(?P<v>xxs|xs|xxxxl|xxxl|xxl|xl|[2-6]xl)(?![\w\-/])")
_IN_LETTER = re.compile(r"(?<![\w])(?:in|en|em)\s+(?P<v>S|M|L)(?![\w\-/])")
_MEASURE_RX = re.compile(rf"(?<![\w.,])(?P<v>{_MEASURE})")
_AGE = re.compile(rf"{_NUMR}\s?(?:(?:-|–|to|a)\s?{_NUMR}\s?)?{_AGE_UNIT}")
_COMPARE_BEFORE = re.compile(r"(?:under|below|over|above|less than|more than|up to|around|about|approx\.?|"
                             r"approximately|at least|at most|max|min|within|~|<|>|<=|>=|≤|≥|unter|über|moins de|"
                             r"plus de|menos de|más de|mais de|até)\s*$")
_COMPAT_BEFORE = re.compile(r"(?:for|fits?|fitting|compatible with|suitable for|para|pour|für)\s+"
                            r"(?:my|a|an|the|your|mi|mon|ma|meinen|meine|mein)?\s*$")


# An age in months in the catalogs' languages: "6-12 months" = "6-12-meses" = "6-12 mois" = "6-12 M" = "6-12 luni".
_MONTHS = re.compile(r"(?P<n>\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?)?)\s?(?:mo|mes|mois|monate|m|luni|mesi)")
_MONTH_WORDS = ("months", "meses", "mois", "monate", "M", "luni", "mesi")


def _month_keys(key: str) -> list[str]:
    """The keys of the same age in months in every language (month words keep their language in keys)."""
    m = _MONTHS.fullmatch(key)
    if not m:
        return [key]
    n = m.group("n")
    return list(dict.fromkeys([key, *(size_key(f"{n} {w}") for w in _MONTH_WORDS), size_key(f"{n}m")]))


def _size_values(cv: CompiledVocabulary | None, surface: str) -> tuple[str, ...]:
    key = size_key(surface)
    if cv is None:
        return ()
    got: tuple[str, ...] = tuple(v for k in _month_keys(key) for v in cv.size_by_key.get(k, ()))
    if not got and (dim := dimension_key(key)):
        got = cv.size_by_dim.get(dim) or ()
    return got


def _fallback_size(surface: str) -> tuple[str, ...]:
    v = normalize_value(surface)
    key = size_key(v)
    longs = [k for k, x in (("small", "s"), ("medium", "m"), ("large", "l"), ("extra large", "xl")) if x == key]
    if key in ("xs", "s", "m", "l", "xl", "2xl", "3xl", "4xl", "5xl", "6xl", "2xs"):
        return tuple(dict.fromkeys([key, *longs, v]))
    if re.fullmatch(r"\d+(?:\.\d+)?", key):
        return tuple(dict.fromkeys((key, f"size {key}", f"size-{key}", v)))
    return (v,)


def _sizes(st: QueryState, cv: CompiledVocabulary | None) -> None:
    for m in _SIZE_AFTER_WORD.finditer(st.low):
        if not st.free(m.start(), m.end()):
            continue
        surface = st.s[m.start("v"):m.end("v")]
        values = closest_first(surface, _size_values(cv, surface)) or _fallback_size(surface)
        st.add(Found(m.start(), m.end(), "size", values, True))


_NAMED_SIZE = re.compile(r"(?<![\w-])(?P<v>california king|cal king|super king|king|queen|twin xl|twin|full|double|"
                         r"single|plus|petite|one|small|medium|large|extra large|xs|xl|xxl|[2-6]xl)[\s-]size(?:d)?"
                         r"(?![\w])")


def _named_sizes(st: QueryState, cv: CompiledVocabulary | None) -> None:
    """ "queen size sheets", "plus-size dress": a size named before the word "size"."""
    for m in _NAMED_SIZE.finditer(st.low):
        if not st.free(m.start(), m.end()):
            continue
        v = "one size" if m.group("v") == "one" else m.group("v")
        values = _size_values(cv, v)
        if cv is None or values:
            st.add(Found(m.start(), m.end(), "size", values or _fallback_size(v), True))
        else:
            st.add(Found(m.start(), m.end(), "hint", (st.low[m.start():m.end()],), False))


def _letter_sizes(st: QueryState, cv: CompiledVocabulary | None) -> None:
    for rx, text in ((_STANDALONE_LETTERS, st.low), (_IN_LETTER, st.s)):
        for m in rx.finditer(text):
            if not st.free(m.start(), m.end()):
                continue
            values = closest_first(m.group("v"), _size_values(cv, m.group("v")))
            if cv is not None and not values:
                continue  # the catalog has no such size: a letter code alone is not evidence enough
            prev = _PREV_WORD.search(st.s, max(0, m.start() - 40), m.start())
            if rx is _STANDALONE_LETTERS and prev and prev.group(1)[:1].isupper() and \
                    st.s[:prev.start(1)].strip():
                # "Ninja Foodi XL", "Traeger Pro XL": part of a product name, not a size to filter on
                st.add(Found(m.start(), m.end(), "hint", (m.group("v"),), False))
                continue
            st.add(Found(m.start(), m.end(), "size", values or _fallback_size(m.group("v")), True))


_PREV_WORD = re.compile(r"(\w+)\s+$")
_CLAUSE_START = re.compile(r"[,;(]\s*$")
_SIZE_ADJ_RX = re.compile(rf"(?<![\w])(?P<pre>(?:in|en|em|im)\s+)?(?P<v>{_alt(list(SIZE_ADJECTIVES))})(?![\w])")


def _size_adjectives(st: QueryState, cv: CompiledVocabulary | None) -> None:
    for m in _SIZE_ADJ_RX.finditer(st.low):
        if not st.free(m.start(), m.end()):
            continue
        ends_clause = re.match(r"\s*(?:$|[,.;!?)]|size\b|talla\b|taille\b)", st.low[m.end():]) is not None
        after_comma = before(_CLAUSE_START, st.low, m.start())
        # hard only as a clause of its own after other words: "hoodie in medium", "hoodie, medium", "hoodie medium"
        if ends_clause and (m.group("pre") or after_comma or st.low[max(0, m.start() - 8):m.start()].strip()):
            values = closest_first(m.group("v"), _size_values(cv, m.group("v"))) or _fallback_size(m.group("v"))
            st.add(Found(m.start(), m.end(), "size", values, True))
        else:
            # "medium cap", "large dog bed": the adjective names a variant loosely; a hint, never a filter
            nxt = re.match(r"\s+(\w+)", st.low[m.end():])
            end = m.end() + (nxt.end() if nxt else 0)
            st.add(Found(m.start("v"), end, "hint", (st.low[m.start("v"):end],), False))


def _measurements(st: QueryState, cv: CompiledVocabulary | None) -> None:
    for m in _MEASURE_RX.finditer(st.low):
        if not st.free(m.start(), m.end()):
            continue
        surface = m.group("v")
        values = closest_first(surface, _size_values(cv, surface))
        # "for my 40 oz quencher" describes another item, but "for a 6-12 month old" is the wearer's age: a size
        age = _AGE.fullmatch(surface) is not None
        loose = (before(_COMPAT_BEFORE, st.low, m.start()) and not age) or before(_COMPARE_BEFORE, st.low, m.start())
        if values and not loose:
            st.add(Found(m.start(), m.end(), "size", values, True))
        else:
            # "for my 40 oz quencher", "under 40 cm", "16 inches" with no such size: helps choose a variant only
            st.add(Found(m.start(), m.end(), "hint", (normalize_value(surface),), False))



def extract_sizes(st: QueryState, cv: CompiledVocabulary | None) -> None:
    """Every size pass, strongest evidence first."""
    _named_sizes(st, cv)
    _sizes(st, cv)
    _letter_sizes(st, cv)
    _size_adjectives(st, cv)
    _measurements(st, cv)
