"""Canonical attributes, value normalisation and money: the shared vocabulary rules.

One place decides how merchant words compare, so the crawler, the index vocabulary and the
search filter can never disagree.

* :func:`canonical_attribute` maps an option name as merchants write it (``Colour``, ``Couleur``,
  ``Farbe``, ``Select the Size:``, ``Lenght:``) to a canonical attribute (``color``, ``size``,
  ``material``, ``length``...). Unknown names become their normalised form (lower case, no
  trailing colon, single spaces), so every option can still be filtered by name.
* :func:`normalize_value` is the equality key for option values: NFKC, lower case, accents kept,
  whitespace collapsed, surrounding punctuation stripped.
* :func:`value_parts` splits composite values (``"Red / White"``) into parts; a constraint
  ``red`` matches a composite only when one *part* equals it.
* :func:`option_pairs` is what one variant option stands for, as ``(canonical attribute, value)`` pairs: one pair
  for a plain option, one per part for a **composite option** (``"Color / Style"`` = ``"Black / T-Shirt"`` →
  ``color`` = ``Black`` and ``style`` = ``T-Shirt``). Every consumer (filter postings, vocabulary, facets,
  eligibility, evaluation's gold check) reads options through it; the option's name and value are stored and
  shown as the merchant wrote them.
* :func:`to_minor` converts a decimal price string to integer minor units for a currency.

Merchant HTML becomes text in :mod:`indexer.sanitise` (``html_to_text`` is re-exported here).
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

# HTML to text has its own module (a real HTML parser); re-exported here for the crawler's parsers.
from indexer.sanitise import html_to_text as html_to_text

# Option names (already normalised) → canonical attribute. Keys cover the languages seen in
# real catalogs (en, fr, es, pt, de, it, nl, sv) and the "choose/select the X" habit.
_ATTRIBUTE_WORDS: dict[str, tuple[str, ...]] = {
    "color": ("color", "colour", "colors", "colours", "couleur", "farbe", "cor", "colore", "kleur", "färg",
              "farg", "tone", "shade", "finish color"),
    "size": ("size", "sizes", "taille", "talla", "tamanho", "tamaño", "größe", "grösse", "groesse", "grosse",
             "maat", "storlek", "taglia", "ring size", "shoe size", "cap size", "talla del calzado",
             # what a blanket or rug calls its size ("Dimensions: 150x200cm"), and a baby's age size
             # ("Meses: 6-12M"): read as size so "150x200" and "talla 6-12 meses" filter on them
             "size specification", "size spec", "dimensions", "dimension", "measurements", "meses"),
    "material": ("material", "materials", "matière", "matiere", "material/fabric", "fabric", "stoff", "materiale",
                 "tejido", "tecido"),
    "length": ("length", "lenght", "longueur", "largo", "länge", "comprimento"),
    "style": ("style", "estilo", "stil", "design"),
    "pattern": ("pattern", "motif", "print"),
    "scent": ("scent", "fragrance", "parfum"),
    "flavor": ("flavor", "flavour", "saveur", "sabor", "geschmack"),
    "width": ("width", "breite", "largeur"),
    "quantity": ("quantity", "pack", "pack size", "units", "qty"),
}
_CANONICAL: dict[str, str] = {word: attr for attr, words in _ATTRIBUTE_WORDS.items() for word in words}
_CHOOSE_PREFIX = re.compile(
    r"^(?:please\s+)?(?:choose|select|pick|elige|choisir|choisissez|wähle)\s+"
    r"(?:the\s+|a\s+|your\s+|un\s+|une\s+)?"
)
_SPACE = re.compile(r"\s+")
_UNIT_SUFFIX = re.compile(r"\s*\([^()]{1,12}\)$")
_PART_SPLIT = re.compile(r"\s*(?:/|\||,|\+|&|\band\b|\bet\b|\by\b)\s*")
KNOWN_ATTRIBUTES = frozenset(_ATTRIBUTE_WORDS)
# What joins two option names into one composite option ("Color / Style", "Colour/Size", "Size & Colour",
# "Length - Width"): symbols only, tried in this order; a hyphen only with spaces round it ("T-Shirt Size" is one
# name). Words ("Size and Colour") are left out: no catalog seen writes them, and "and" inside values is common.
_COMPOSITE_SEPARATORS = ("/", "&", "+", "|", ",", " - ")
# Version of the rules that turn options into (attribute, value) pairs. A snapshot records the one its vocabulary
# was built with (``attribute_rules`` in the manifest; absent = "1") and the filter's derived columns record it too:
# a different one makes `aisle index` rebuild and the columns be derived again at open.
# 2: composite option names (:func:`option_pairs`).
ATTRIBUTE_RULES = "2"

# ISO 4217 currencies with no minor unit (exponent 0) or three decimals.
_EXPONENT_0 = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV",
               "XAF", "XOF", "XPF"}
_EXPONENT_3 = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}


def normalize_name(name: str) -> str:
    """Normalise an option name: NFKC, lower case, no trailing colon, single spaces."""
    n = unicodedata.normalize("NFKC", html.unescape(name or "")).strip().lower()
    n = n.rstrip(":： ").strip()
    return _SPACE.sub(" ", n)


@functools.lru_cache(maxsize=8192)  # a crawl meets a few hundred distinct names, each thousands of times
def canonical_attribute(name: str) -> str:
    """Map a merchant's option name to its canonical attribute (see module docstring)."""
    n = normalize_name(name)
    if n in _CANONICAL:
        return _CANONICAL[n]
    stripped = _CHOOSE_PREFIX.sub("", n).strip()
    if stripped in _CANONICAL:
        return _CANONICAL[stripped]
    # "size (ft)" → size: a unit in brackets does not change what the option is.
    bare = _UNIT_SUFFIX.sub("", stripped).strip()
    if bare in _CANONICAL:
        return _CANONICAL[bare]
    # "select the size" → size; "frame color" → color: the last word decides when it is known.
    last = stripped.split(" ")[-1] if stripped else n
    if last in _CANONICAL:
        return _CANONICAL[last]
    return stripped or n


@functools.lru_cache(maxsize=65536)  # option values repeat (sizes, colours) across a catalog
def normalize_value(value: str) -> str:
    """Equality key of an option value: NFKC, lower case, collapsed spaces, outer punctuation stripped."""
    v = unicodedata.normalize("NFKC", html.unescape(value or "")).lower().strip()
    v = _SPACE.sub(" ", v)
    return v.strip(" .,;:-_/|")


def value_parts(value: str) -> tuple[str, ...]:
    """Normalised parts of a possibly composite value: ``"Red / White"`` → ``("red / white", "red", "white")``.

    The whole value is always the first part, so an exact full-value match also counts.
    """
    whole = normalize_value(value)
    parts = [normalize_value(p) for p in _PART_SPLIT.split(whole)]
    out = [whole] + [p for p in parts if p and p != whole]
    return tuple(dict.fromkeys(out))


@functools.lru_cache(maxsize=4096)
def _composite(name: str) -> tuple[str, tuple[str, ...]] | None:
    """``(separator, attribute of each part)`` of a composite option name, None for a plain one."""
    n = normalize_name(name)
    if n in _CANONICAL:  # "material/fabric" is one known name, not two
        return None
    for sep in _COMPOSITE_SEPARATORS:
        if sep not in n:
            continue
        parts = [p.strip() for p in n.split(sep)]
        attrs = tuple(canonical_attribute(p) if p else "" for p in parts)
        if all(a in KNOWN_ATTRIBUTES for a in attrs):  # every part names a known attribute
            return sep, attrs
    return None


@functools.lru_cache(maxsize=65536)  # (name, value) pairs repeat across the variants of a product
def option_pairs(name: str, value: str, canonical: str | None = None) -> tuple[tuple[str, str], ...]:
    """The ``(canonical attribute, value)`` pairs one variant option stands for.

    A plain option is one pair: ``canonical`` (the stored attribute; default :func:`canonical_attribute` of
    ``name``) and ``value`` unchanged. A **composite option** is one pair per part when both sides agree:

    * the name splits on one separator (``/``, ``&``, ``+``, ``|``, ``,`` or a spaced `` - ``; spaces
      optional except for the hyphen) into parts that *each* name a known attribute (``Color / Style``,
      ``Frame Colour/Size``, ``Size & Colour``; not ``Number of Group Heads/Style``, not ``Material/Fabric``,
      which is one known name), and
    * the value splits on the same separator into as many non-empty parts (``Black / T-Shirt``).

    Then part *i* of the value is the value of the attribute of part *i* of the name: ``("color", "Black"),
    ("style", "T-Shirt")``. Otherwise (``Group/Version`` = ``2 White``; ``Color / Style`` = ``Black``) the option
    keeps today's single pair, whose value parts still match (:func:`value_parts`).
    """
    plain = ((canonical if canonical is not None else canonical_attribute(name), value),)
    found = _composite(name)
    if found is None:
        return plain
    sep, attrs = found
    text = html.unescape(value or "")
    parts = [p.strip() for p in (re.split(r"\s+-\s+", text) if sep == " - " else text.split(sep))]
    if len(parts) != len(attrs) or not all(normalize_value(p) for p in parts):
        return plain
    return tuple(dict.fromkeys(zip(attrs, parts, strict=True)))


def option_attributes(name: str, values: Iterable[str], canonical: str | None = None) -> frozenset[str]:
    """The canonical attributes an option (``name`` with its ``values``) gives a product: see :func:`option_pairs`."""
    out = {a for v in values for a, _ in option_pairs(name, v, canonical)}
    return frozenset(out) if out else frozenset((canonical if canonical is not None else canonical_attribute(name),))


def currency_exponent(currency: str) -> int:
    """Number of decimal places of a currency's minor unit (2 unless ISO 4217 says otherwise)."""
    c = (currency or "").upper()
    if c in _EXPONENT_0:
        return 0
    if c in _EXPONENT_3:
        return 3
    return 2


_AMOUNT_TYPES = (str, int, float)


def to_minor(amount: str | int | float | None, currency: str) -> int | None:
    """Decimal amount (``"7.99"``) → integer minor units for ``currency``; None if unparseable or negative."""
    if amount is None or isinstance(amount, bool) or not isinstance(amount, _AMOUNT_TYPES):
        return None
    return _to_minor(amount, currency)


@functools.lru_cache(maxsize=16384, typed=True)  # prices repeat; typed: 1 and 1.0 must not share an entry
def _to_minor(amount: str | int | float, currency: str) -> int | None:
    try:
        d = Decimal(str(amount).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    if not d.is_finite() or d < 0:
        return None
    return int((d * (10 ** currency_exponent(currency))).to_integral_value())


def from_divisor(amount: int, divisor: int, currency: str) -> int | None:
    """Etsy Money (``amount / divisor``) → minor units of ``currency``."""
    if not isinstance(amount, int) or not isinstance(divisor, int) or divisor <= 0 or amount < 0:
        return None
    exp = currency_exponent(currency)
    return int(Decimal(amount) * (10**exp) / Decimal(divisor))
