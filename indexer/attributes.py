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
* :func:`to_minor` converts a decimal price string to integer minor units for a currency.

Merchant HTML becomes text in :mod:`indexer.sanitise` (``html_to_text`` is re-exported here).
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
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
