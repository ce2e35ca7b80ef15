"""ONE normalisation of values: the equality key the parser, the filter, the vocabulary and evaluation share.

* :func:`value_key` — an option value (colour, size, material...) → its equality key:
  :func:`indexer.attributes.normalize_value` (NFKC, case, spacing, outer punctuation), then

  - halves unified (``7 1/2``, ``7½`` → ``7.5``), units written next to a number unified (``55 Inch``,
    ``55"``, ``55in`` → ``55in``; ``40-ounce``, ``40 oz`` → ``40oz``; ``15 ml`` → ``15ml``; likewise cm,
    mm, m, kg, g, lb, l, ft); ages unified (``6-12 months``, ``6-12m`` → ``6-12mo``; ``2 years`` → ``2y``)
    while month words of other languages keep their language (``6-12 meses`` → ``6-12mes``: a literal
    catalog spelling is what an agent puts in the cart);
  - a leading attribute word is dropped (``Size 7``, ``size-7``, ``Talla M`` → ``7``, ``m``);
  - dimensions compare without their units (``10' x 12'``, ``10ft x 12ft``, ``10x12`` → ``10x12``);
  - a synonym table maps each synonym to one representative: grey/gray → ``gray``; letter sizes to the
    numeric-X form (``XXL``, ``2XL``, ``xx-large`` → ``2xl``; ``XXXL`` → ``3xl``; ``XXS`` → ``2xs``),
    ``M``/``medium`` → ``m`` and so on, one size/OS → ``one size``.

* :func:`label_key` — a vendor / product type name → its key: the same base normalisation
  (``normalize_value``), so ``"A.P.C."`` (the filter postings) and ``"a.p.c"`` (the index vocabulary the
  parser reads) are one key.

Every equality in :mod:`search.filter`, :mod:`search.query` and :mod:`search.eval.gold` goes through these
two functions; a new synonym or unit is added here once.
"""

from __future__ import annotations

import re
from functools import lru_cache

from indexer.attributes import normalize_value, value_parts

# Synonym classes; the first word is the representative every member maps to.
_SYNONYM_CLASSES: tuple[tuple[str, ...], ...] = (
    ("gray", "grey"),
    ("2xs", "xxs", "xx-small", "xx small", "extra extra small"),
    ("xs", "x-small", "x small", "xsmall", "extra small", "extra-small"),
    ("s", "small", "sm"),
    ("m", "medium", "med", "md"),
    ("l", "large", "lg"),
    ("xl", "x-large", "x large", "xlarge", "extra large", "extra-large", "1xl"),
    ("2xl", "xxl", "xx-large", "xx large", "extra extra large", "2x"),
    ("3xl", "xxxl", "xxx-large", "xxx large", "3x"),
    ("4xl", "xxxxl", "4x"),
    ("one size", "os", "onesize", "one-size", "one size fits all", "osfa", "taille unique", "talla única"),
)
SYNONYMS: dict[str, str] = {w: cls[0] for cls in _SYNONYM_CLASSES for w in cls}

_UNITS: tuple[tuple[str, str], ...] = (
    (r"(?:inches|inch|in|\"|”|″|'')", "in"),
    (r"(?:fl\.?\s*oz|ounces|ounce|onzas|onza|oz)", "oz"),
    (r"(?:millilitres|milliliters|millilitre|milliliter|ml)", "ml"),
    (r"(?:centimetres|centimeters|centimetre|centimeter|cms|cm)", "cm"),
    (r"(?:millimetres|millimeters|millimetre|millimeter|mm)", "mm"),
    (r"(?:kilograms|kilogram|kgs|kg)", "kg"),
    (r"(?:grams|gram|gr|g)", "g"),
    (r"(?:pounds|pound|lbs|lb)", "lb"),
    (r"(?:litres|liters|litre|liter|ltrs|ltr|l)", "l"),
    (r"(?:feet|foot|ft|'|’|′)", "ft"),
    (r"(?:months|month|mo)", "mo"),
    (r"(?:meses|mes)", "mes"),
    (r"(?:mois)", "mois"),
    (r"(?:monate)", "monate"),
    (r"(?:years|year|yrs|yr|años|anos|ans|jahre|y)", "y"),
)
# (?<!\d): a number is matched from its first digit only. Without it a 2,000-digit run costs a quadratic
# number of steps per unit pattern (every start inside the run scans to its end; issue 12 item 4), and a
# start inside a run can never match where the run's own start failed, so the results are the same.
_NUM = r"(?<!\d)(\d+(?:[.,]\d+)?)"
_UNIT_RES = [
    (re.compile(_NUM + r"\s*-?\s*" + pat + r"(?=$|[^\w])", re.IGNORECASE), unit) for pat, unit in _UNITS
]
_RANGE_MONTHS = re.compile(r"(?<=\d-\d)m\b|(?<=\d-\d\d)m\b")  # "6-12m" is months; a lone "5m" stays metres
_NUM_DASH = re.compile(r"(?<=\d)\s*[-–]\s*(?=\d)")  # "6 - 12 months" → "6-12 months"
_DECIMAL_COMMA = re.compile(r"\d+,\d{1,2}")
_HALF = re.compile(r"(?<=\d)\s?(?:1[/⁄]2|½)")
_LEADING_ATTR = re.compile(
    r"^(?:ring size|shoe size|us size|uk size|eu size|size|sizes|sz|talla|taille|tamanho|tamaño|größe|grösse|maat|"
    r"taglia|colou?r|cor|couleur)\s*[-:_#]?\s*(?=\S)"
)
_TOKEN = re.compile(r"\w+", re.UNICODE)
_DIGIT = re.compile(r"\d")
_DIM_NUM = re.compile(r"\d+(?:[.,]\d+)?")
_DIM = r"\d+(?:[.,]\d+)?\s*[a-z]{0,2}"
_DIMS = re.compile(rf"^{_DIM}\s*[x×*]\s*{_DIM}(?:\s*[x×*]\s*{_DIM})?$")


def unify_units(v: str) -> str:
    """Units written next to a number in one spelling (``55 Inch`` → ``55in``); text without digits unchanged."""
    if not _DIGIT.search(v):  # most text has no number: skip the unit patterns
        return v
    v = _HALF.sub(".5", v)  # "7 1/2", "7½" → 7.5
    v = _RANGE_MONTHS.sub("mo", v)
    for rx, unit in _UNIT_RES:
        v = rx.sub(lambda m, u=unit: m.group(1).replace(",", ".") + u, v)  # type: ignore[misc]
    return v


@lru_cache(maxsize=65536)
def value_key(value: str) -> str:
    """The equality key of one value (see the module docstring): normalised, units unified, synonyms mapped."""
    v = unify_units(_NUM_DASH.sub("-", normalize_value(value)))
    if _DECIMAL_COMMA.fullmatch(v):
        v = v.replace(",", ".")  # "7,5" is the European 7.5
    stripped = _LEADING_ATTR.sub("", v)
    if stripped and stripped != v:
        v = normalize_value(stripped)
    if _DIMS.match(v):  # "10' x 12'", "10ft x 12ft", "10x12" → "10x12": dimensions compare without their units
        return "x".join(n.replace(",", ".") for n in _DIM_NUM.findall(v))
    return SYNONYMS.get(v, v)


@lru_cache(maxsize=65536)
def value_keys(value: str) -> frozenset[str]:
    """Every key a (possibly composite) value answers to: the whole value and each part (``Red / White``)."""
    return frozenset(value_key(p) for p in value_parts(value) if p)


def label_key(text: str) -> str:
    """The key of a vendor / product type name (see the module docstring)."""
    return normalize_value(text)


@lru_cache(maxsize=131072)
def text_tokens(text: str) -> tuple[str, ...]:
    """Word tokens of free text: units unified (``55"`` → ``55in``), lower case, one-word synonyms mapped."""
    return tuple(SYNONYMS.get(t, t) for t in _TOKEN.findall(unify_units(normalize_value(text))))


def key_tokens(key: str) -> tuple[str, ...]:
    """Tokens of a value key, for whole-word phrase matching in product text (same mapping as :func:`text_tokens`)."""
    return tuple(SYNONYMS.get(t, t) for t in _TOKEN.findall(key))
