"""Deterministic query understanding: a shopper's words → semantic text + constraints (no LLM, microseconds).

One public entry point, :func:`parse_query`, returning a frozen :class:`ParsedQuery`. The catalog's
attribute vocabulary (the index's ``Vocabulary``) plus a small built-in lexicon (:mod:`search.query.lexicon`,
:mod:`search.query.countries`) decide what a word means. What is extracted leaves ``text``; what is not
understood stays in it. Brands and materials are reported *and* stay in ``text`` (they matter for
BM25 and the dense model). Every attribute's values come closest-to-the-shopper's-spelling first
("negra" → ``("negra", "negro", "black")``), so a caller that wants one ranking word can take the
first. ``spans`` echo every reading; evidence that is not a filter is marked ``soft_vendor`` /
``soft_material`` and also listed in ``hints``.

Reading rules (conservative: a false hard filter loses results, a missed one only loses precision):

* **Price** (:mod:`search.query.prices`): "under $40", "max 30€", "moins de 30 €", "between 20 and 50",
  "$25-$40", "over $100", "under ₹1,000", "under $4,000 CAD", "under 20 pounds", "20 quid", "50 bucks",
  "around $60" (a ±20% band, ``price_approx``)... in minor units of one currency. A number read as a price
  leaves the text (so "20" never matches a "20L" backpack).
* **Country** of the buyer (ISO alpha-2) only after a shipping or location cue: "ships to Canada",
  "shipping to the US", "I'm in Vietnam", "in Germany", "nach/für Österreich", "envío a México";
  never after "made in". Demonyms only as "I'm Canadian".
* **In stock**: "in stock (right now)", "available now", "disponible", "auf Lager", "em estoque";
  "available in red" is not read as stock.
* **Vendors** from the vocabulary, whole words, longest first; a vendor spelled like a common word
  ("Tower", "Fellow", "Echo") counts only when capitalised away from the start of the query.
  Vendors that contain the named one are added ("Stanley" → stanley, stanley 1913). A brand is a
  *requirement* (``vendors``) only when the shopper writes it as a name ("Sony", "JURA"); in a query
  typed in lower case or all capitals it is evidence only: a ``soft_vendor`` span and a hint (a filter
  would drop the "other cordless hedge trimmers" a shopper typing "makita hedge trimer" also accepts).
* **Materials** (lexicon + vocabulary ``material`` values, longest first: "organic cotton filling").
  Metals are materials unless a colour context makes them colours ("earbuds in gold"); "9 carat gold",
  "sterling silver", "solid gold" are always materials. A material goes to ``attributes["material"]``
  (a filter) only when the catalog sells it as a variant option spelled in the shopper's language or
  English (the vocabulary's ``material`` values); the values are the shopper's word, the catalog's
  spellings and a broader material ("solid gold" also accepts "gold"). A material only named in
  product words, or sold only under another language's word ("merino" vs a French "Laine"), is a
  ``soft_material`` span and a hint: a filter would drop the "Ladies Kurta Off White" that never says
  "cotton". Without a vocabulary every material is reported.
* **Colours**: plain colour words in six languages with gender forms, synonyms grey/gray, and
  multi-word catalog colours ("piano black"), longest first, whole words only ("redwood" is no red).
  Returned as the shopper's word plus the vocabulary's values that denote the colour in the same
  language or English ("negra" → ``("negra", "negro", "black")``, not Portuguese "preto"; every
  spelling when the catalog has none of those).
  Colour words that are also nouns need a colour context (see :mod:`search.query.lexicon`); "green tea",
  "white noise" are not colours; "in lilac tones" is a hint, not a filter.
* **Sizes**: after a size word ("size M", "ring size 7", "talla L", "taille 40", "Größe 42", "talla
  6-12 meses"); "XL"/"XXL"/"3XL" alone when the catalog has them; "in M"; "small/medium/large" only as
  a clause of their own ("hoodie in medium", "hoodie, medium"), else a hint ("medium cap");
  measurements ("55 inch", "10x12", "15ml") when the catalog has such a size value, else a hint;
  a measurement after "for my / fits" describes another item ("boot for my 40 oz quencher") → hint.
  Sizes map to the vocabulary's values through :func:`search.query.vocabulary.size_key` (month words keep
  their language: "6-12 meses" does not take "6-12 months").
* **Product types** from the vocabulary (singular/plural folded) only after an explicit cue
  ("category: chainsaws", "rings category"): merchants' types are too uneven ("closure", "equipment")
  to read one from a plain noun when the engine filters on it exactly. Kept in the text.
* **Negation** (:mod:`search.query.negation`): "a scarf, not black", "any colour except black", "beanie that
  isn't red", "no red", "sin negro", "pas noir", "nicht schwarz" → ``exclude`` (colour or material), never a
  filter FOR the word; the cue and the words leave the text.
* **"cheapest"** (and "least expensive", "le moins cher", "más barato", "am günstigsten") → ``sort =
  "price_asc"``: the exact results are ordered by price; not a filter.
* **Notes** (:mod:`search.query.notes`): a price cue whose amount cannot be read ("under twenty dollars"), a
  named colour the lexicon does not know, words in an unsupported script: the words stay in the text and
  ``notes`` says what was not applied.
* **Hints** (loose words for choosing a variant, never filters): measurements, size adjectives, option
  values of other attributes seen in the catalog ("strapless", "kinky straight", "with a scarf"),
  a size code inside a product name ("Ninja Foodi XL"), soft brands and materials.
* ``text`` never ends up empty when the query had words: if extraction would leave nothing, colour
  and size words are kept in it. Queries longer than :data:`search.schema.MAX_QUERY_CHARS` are cut there; HTML
  tags are dropped; nothing raises.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field

from search.query.notes import unread_notes
from search.query.rules import extract
from search.query.state import Found, QueryState
from search.query.vocabulary import VocabularyLike, compile_vocabulary
from search.schema import MAX_QUERY_CHARS

__all__ = ["MAX_PARSE_CHARS", "ParsedQuery", "VocabularyLike", "parse_query"]

MAX_PARSE_CHARS = MAX_QUERY_CHARS  # the one query length cap (search.schema)
_REMOVED = frozenset({"price", "country", "available", "size", "color", "sort", "exclude_color",
                      "exclude_material"})
_FRACTIONS = str.maketrans({"½": " 1/2", "¼": " 1/4", "¾": " 3/4"})
_SCRIPT = re.compile(r"<(script|style)\b[^>]{0,500}>.{0,5000}?</\1\s*>", re.S | re.I)
_TAG = re.compile(r"<[^<>]{0,500}>")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_SPACE = re.compile(r"\s+")
# Words swallowed with a removed phrase: "in XL", "that's in stock", "for under $40".
_GLUE: dict[str, frozenset[str]] = {
    "price": frozenset("for at priced costing cost costs that which is are and but y und et e por pour für à a "
                       "something anything".split()),
    "country": frozenset("that which and is are it but y und et e que qui also, we i".split()),
    "available": frozenset("that which and is are it but y und et e que qui also only and".split()),
    "size": frozenset("in en em im a an the".split()),
    "color": frozenset("in en em im a an the colour color couleur farbe cor colore".split()),
    "exclude_color": frozenset("in en a an the and but that which , preferably".split()),
    "exclude_material": frozenset("in en a an the and but that which made of".split()),
    "sort": frozenset("the".split()),
}
_LAST_WORD = re.compile(r"([\w'’]+)\s+$")
_EDGE_WORDS = frozenset("in at for with that which and or to of the a an en de para für mit y und et e que is are but "
                        "size talla taille".split())


@dataclass(frozen=True)
class ParsedQuery:
    """The reading of one query (see module docstring). Money in minor units of ``currency``."""

    text: str
    attributes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    vendors: tuple[str, ...] = ()
    product_types: tuple[str, ...] = ()
    price_min: int | None = None
    price_max: int | None = None
    currency: str | None = None
    country: str | None = None
    available_only: bool = False
    hints: tuple[str, ...] = ()
    spans: tuple[tuple[str, str, str], ...] = ()
    exclude: dict[str, tuple[str, ...]] = field(default_factory=dict)  # negated values: "not black"
    sort: str | None = None  # "price_asc" for "cheapest"
    price_approx: bool = False  # the price bounds are a band around a price ("around $60")
    notes: tuple[str, ...] = ()  # words that look like a constraint but could not be read (left in the text)


def _prepare(query: object) -> str:
    s = query if isinstance(query, str) else ""
    s = s[: MAX_PARSE_CHARS * 4]
    s = s.translate(_FRACTIONS)  # before NFKC, which turns "7½" into "71⁄2"
    s = unicodedata.normalize("NFKC", s)
    s = html.unescape(s)
    s = _SCRIPT.sub(" ", s)
    s = _TAG.sub(" ", s)
    s = _CONTROL.sub(" ", s)
    s = _SPACE.sub(" ", s).strip()
    if len(s) > MAX_PARSE_CHARS:
        cut = s.rfind(" ", 0, MAX_PARSE_CHARS)
        s = s[: cut if cut > MAX_PARSE_CHARS // 2 else MAX_PARSE_CHARS]
    return s


def _lower(s: str) -> str:
    low = s.lower()
    if len(low) == len(s):
        return low
    # a few characters ("İ") grow when lower-cased; keep offsets aligned with the original
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in s)


def _extend_left(low: str, start: int, glue: frozenset[str]) -> int:
    while True:
        m = _LAST_WORD.search(low, max(0, start - 40), start)
        if not m or m.group(1) not in glue:
            return start
        start = m.start(1)


def _rebuild(s: str, low: str, found: list[Found], kinds: frozenset[str]) -> str:
    cuts = []
    for f in found:
        if f.remove and f.kind in kinds:
            cuts.append((_extend_left(low, f.start, _GLUE.get(f.kind, frozenset())), f.end))
    out, pos = [], 0
    for a, b in sorted(cuts):
        if a > pos:
            out.append(s[pos:a])
        pos = max(pos, b)
    out.append(s[pos:])
    text = " ".join(out)
    text = _SPACE.sub(" ", text)
    text = re.sub(r"\s+([,;:.!?)])", r"\1", text)
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)
    words = text.split(" ")
    while words and (words[0].strip(",;:.-–!?").lower() in _EDGE_WORDS or not re.search(r"\w", words[0])):
        words.pop(0)
    while words and (words[-1].strip(",;:.-–!?").lower() in _EDGE_WORDS or not re.search(r"\w", words[-1])):
        words.pop()
    return " ".join(words).strip(" ,;:-–")


def _span_value(f: Found) -> str:
    if f.kind == "price" and f.low is not None and f.high is not None and "approx" in f.values:
        return f"~{f.low}..{f.high} {f.currency}"
    if f.kind == "price":
        if f.low is not None and f.high is not None:
            return f"{f.low}..{f.high} {f.currency}"
        return f"<= {f.high} {f.currency}" if f.high is not None else f">= {f.low} {f.currency}"
    return "|".join(f.values)


@dataclass
class _Readings:
    """What the pieces of one query say, gathered in text order."""

    attributes: dict[str, list[str]] = field(default_factory=dict)
    exclude: dict[str, list[str]] = field(default_factory=dict)
    vendors: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    lows: list[int] = field(default_factory=list)
    highs: list[int] = field(default_factory=list)
    currency: str | None = None
    country: str | None = None
    available: bool = False
    sort: str | None = None
    approx: bool = False


def _more(into: list[str], values: tuple[str, ...] | list[str]) -> None:
    into.extend(v for v in values if v not in into)


def _gather(st: QueryState, found: list[Found]) -> _Readings:
    r = _Readings()
    for f in found:
        if not f.hard:
            _more(r.hints, [st.low[f.start:f.end]])
        elif f.kind in ("color", "size", "material"):
            _more(r.attributes.setdefault(f.kind, []), f.values)
        elif f.kind.startswith("exclude_"):
            _more(r.exclude.setdefault(f.kind.removeprefix("exclude_"), []), f.values)
        elif f.kind in ("vendor", "product_type", "hint"):
            _more({"vendor": r.vendors, "product_type": r.types, "hint": r.hints}[f.kind], f.values)
        elif f.kind == "country" and r.country is None:
            r.country = f.values[0]
        elif f.kind == "available":
            r.available = True
        elif f.kind == "sort":
            r.sort = f.values[0]
        elif f.kind == "price":
            r.currency = f.currency
            r.approx = r.approx or "approx" in f.values
            if f.low is not None:
                r.lows.append(f.low)
            if f.high is not None:
                r.highs.append(f.high)
    return r


def parse_query(query: str, vocabulary: VocabularyLike | None = None, *, default_currency: str = "USD") -> ParsedQuery:
    """Read ``query`` into text + constraints (rules in the module docstring). Never raises on any string.

    ``vocabulary`` is the index's attribute vocabulary (None: built-in lexicon only, no vendors or
    catalog spellings). ``default_currency`` prices bare amounts ("under 40") and a bare ``$`` when it
    is a dollar currency.
    """
    s = _prepare(query)
    cur_default = (default_currency or "USD").upper()
    if not s:
        return ParsedQuery(text="")
    st = QueryState(s, _lower(s))
    cv = compile_vocabulary(vocabulary) if vocabulary is not None else None
    extract(st, cv, cur_default)
    found = sorted(st.found, key=lambda f: f.start)
    r = _gather(st, found)
    price_min = max(r.lows) if r.lows else None
    price_max = min(r.highs) if r.highs else None
    if price_min is not None and price_max is not None and price_min > price_max:
        price_min = None  # "over $100 under $50": keep the budget, drop the contradiction

    text = _rebuild(s, st.low, found, _REMOVED)
    if not re.search(r"\w", text):
        text = _rebuild(s, st.low, found, frozenset({"price", "country", "available", "sort"}))
    spans = tuple((f.kind if f.hard else f"soft_{f.kind}", s[f.start:f.end], _span_value(f)) for f in found)
    return ParsedQuery(
        text=text,
        attributes={k: tuple(v) for k, v in r.attributes.items() if v},
        vendors=tuple(r.vendors),
        product_types=tuple(r.types),
        price_min=price_min,
        price_max=price_max,
        currency=r.currency if (r.lows or r.highs) else None,
        country=r.country,
        available_only=r.available,
        hints=tuple(r.hints),
        spans=spans,
        exclude={k: tuple(v) for k, v in r.exclude.items() if v},
        sort=r.sort,
        price_approx=r.approx,
        notes=unread_notes(st, text),
    )
