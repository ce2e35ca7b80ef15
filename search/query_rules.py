"""The extraction passes of query understanding, run in a fixed order over one query.

One public entry point, :func:`extract`: it fills a :class:`QueryState` with :class:`Found` pieces
(kind, character span, values, whether the words leave the semantic text). Each pass only reads words
no earlier pass claimed, so "9 carat gold" read as a material is never also a colour, and a vendor
such as "Rosa Rose" never yields the colour "rosa".

Order: availability → price → country → vendor → material → size after a size word → colour →
stand-alone letter sizes → size adjectives → measurements → product type → option-value hints.
The rules for each are in :mod:`search.query`'s docstring.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from indexer.attributes import normalize_value
from search.countries import country_names, demonyms
from search.lexicon import (
    COLOUR_BLOCKING_NEXT,
    COMMON_WORDS,
    LOOSE_COLOUR_AFTER,
    LOOSE_COLOUR_BEFORE,
    MATERIAL_PARENTS,
    METAL_MATERIAL_AFTER,
    METAL_MATERIAL_BEFORE,
    METALS,
    SIZE_ADJECTIVES,
    SIZE_WORDS,
    lexicon,
)
from search.price import find_prices
from search.query_vocab import CompiledVocabulary, PhraseIndex, dimension_key, singular, size_key


@dataclass(frozen=True)
class Found:
    """One extracted piece: ``kind`` in price/country/available/vendor/material/color/size/product_type/hint."""

    start: int
    end: int
    kind: str
    values: tuple[str, ...]
    remove: bool  # True: the words leave the semantic text
    low: int | None = None  # price bounds (minor units) and currency
    high: int | None = None
    currency: str | None = None
    hard: bool = True  # False: evidence only (a lower-case brand, a material the catalog has no option for)


def closest_first(surface: str, values: tuple[str, ...]) -> tuple[str, ...]:
    """``values`` with those spelled most like ``surface`` first ("negra" → negro before black)."""
    s = normalize_value(surface)
    order = {v: k for k, v in enumerate(values)}
    return tuple(sorted(values, key=lambda v: (v != s, -len(os.path.commonprefix([s, v])), order[v])))


def same_language(surface: str, values: tuple[str, ...]) -> tuple[str, ...]:
    """The catalog spellings of one colour/material to accept for a shopper's word.

    English word → the catalog's English spellings; another language → that word's own forms
    ("negra" → negro) plus the English ones ("black"), not the third languages' ("preto"). When the
    catalog has none of those, every spelling it has (a Spanish-only store still answers "black").
    """
    if not values:
        return ()
    lx = lexicon()
    s = normalize_value(surface)

    def kin(v: str) -> bool:  # a gender/plural form of the same word: negra/negro, rot/rote
        n = len(os.path.commonprefix([s, v]))
        return v == s or (n >= 3 and n >= min(len(s), len(v)) - 2)

    english = [v for v in values if lx.is_english(v)]
    keep = english if lx.is_english(s) else [v for v in values if kin(v)] + english
    return closest_first(surface, tuple(dict.fromkeys(keep)) or values)


@dataclass
class QueryState:
    """The query being read: original-case text ``s``, same-length lower case ``low`` and word spans."""

    s: str
    low: str
    words: list[str] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)
    taken: bytearray = field(default_factory=bytearray)
    found: list[Found] = field(default_factory=list)

    def __post_init__(self) -> None:
        for m in re.finditer(r"\w+", self.low):
            self.words.append(m.group())
            self.spans.append((m.start(), m.end()))
        self.taken = bytearray(len(self.s))

    def free(self, a: int, b: int) -> bool:
        return not any(self.taken[a:b])

    def word_free(self, i: int, n: int = 1) -> bool:
        return self.free(self.spans[i][0], self.spans[i + n - 1][1])

    def add(self, f: Found) -> None:
        self.found.append(f)
        self.taken[f.start:f.end] = b"\x01" * (f.end - f.start)


# ---------------------------------------------------------------- availability
_AVAILABLE = re.compile(
    r"(?<![\w-])(?:(?:that'?s|that is|which is|that are|which are|only|currently|que est[eé]n?|que sea|qui est|"
    r"qui sont|der|die|das)\s+)*"
    r"(?:in[- ]stock|on hand|ready to ship|ships? (?:now|today|immediately)|en stock|auf lager|sofort lieferbar|"
    r"lieferbar|verfügbar|vorrätig|em estoque|a pronta entrega|pronta entrega|in magazzino|disponibles?|"
    r"disponíveis|disponível|disponivel|disponibile|available(?:\s+(?:to buy|to order|for purchase))?)"
    r"(?:\s+(?:right now|now|today|currently|immediately|ahora|ya|maintenant|jetzt|sofort|agora|subito))?(?![\w-])")
_AVAILABLE_NOT_BEFORE = re.compile(r"(?:not|no longer|never|isn'?t|aren'?t|un|pas|nicht|no|não)\s*$")
_AVAILABLE_NOT_AFTER = re.compile(r"\s+(?:in|en|em|im|auf|at|for|from|with|as|on|sizes?|colou?rs?)\b")


def _before(rx: re.Pattern[str], text: str, pos: int, window: int = 48) -> bool:
    """Does ``rx`` (anchored with ``$``) match the text just before ``pos``? Bounded, so long input stays linear."""
    return rx.search(text, max(0, pos - window), pos) is not None


def _availability(st: QueryState) -> None:
    for m in _AVAILABLE.finditer(st.low):
        tail = m.group().split()[-1]
        if _before(_AVAILABLE_NOT_BEFORE, st.low, m.start()):
            continue
        if tail.startswith(("available", "disponib", "disponí", "verfügbar", "lieferbar")) and \
                _AVAILABLE_NOT_AFTER.match(st.low, m.end()):
            continue  # "available in red" describes options, not stock
        st.add(Found(m.start(), m.end(), "available", ("true",), True))


# ---------------------------------------------------------------- price
def _prices(st: QueryState, cv: CompiledVocabulary | None, default_currency: str) -> None:
    for h in find_prices(st.low, cv.currencies if cv else frozenset(), default_currency):
        if st.free(h.start, h.end):
            st.add(Found(h.start, h.end, "price", (), True, h.low, h.high, h.currency))


# ---------------------------------------------------------------- country
def _alt(items: list[str]) -> str:
    return "|".join(re.escape(x) for x in sorted(set(items), key=len, reverse=True))


_SHIP = (r"(?:(?:that|which|and|it|can|will|must|to)\s+)?(?:ship(?:s|ped|ping)?|deliver(?:s|ed|y|ing)?|send(?:s|ing)?|"
         r"sent|post(?:s|ed|age)?|mail(?:s|ed)?|dispatch(?:es|ed)?|delivery)(?:\s+(?:it|them|this|out))?\s+"
         r"(?:to|into|in|within|for)")
_LOC = (r"(?:i'?m|i’m|i am|we'?re|we’re|we are|i live|we live|based|located|living|buyer is|customer is)"
        r"(?:\s+(?:currently|now))?\s+(?:in|from)")
_PREP = (r"(?:envíos? a|envios? a|enviar a|envío para|envio para|entrega en|entrega em|entrega para|livraison en|"
         r"livraison au|livraison aux|livraison à|livré en|livré au|spedizione in|spedizione a|lieferung nach|"
         r"versand nach|estoy en|vivo en|moro em|moro no|moro na|j'habite en|j'habite au|in|nach|für|fuer|en|au|"
         r"aux|à|para|naar|til|till)")
_NOT_BUYER = re.compile(r"(?:made|manufactured|produced|designed|printed|crafted|handmade|handcrafted|built|assembled|"
                        r"grown|sourced|roasted|brewed|bottled|imported|popular|famous|sold|born|hecho|hecha|hechos|"
                        r"fabricado|fabricada|fabriqué|fabriquée|fait|faite|hergestellt|gemacht|feito|feita|fatto|"
                        r"fatta|style|inspired)\s+$")
_COUNTRY = re.compile(
    rf"(?<![\w])(?P<trig>{_SHIP}|{_LOC}|{_PREP})\s+(?:the\s+)?(?P<c>{_alt(list(country_names()))})(?![\w])")
_DEMONYM = re.compile(rf"(?<![\w])(?:i'?m|i’m|i am|we'?re|we’re|we are)\s+(?:an?\s+)?"
                      rf"(?P<d>{_alt(list(demonyms()))})(?=\s*(?:$|[,.;!?)]|buyer|customer|shopper|resident))")


def _country(st: QueryState) -> None:
    names = country_names()
    for m in _COUNTRY.finditer(st.low):
        name = m.group("c")
        if name == "us" and st.s[m.start("c"):m.end("c")] != "US" and not re.search(r"the\s+$", st.low[:m.start("c")]):
            continue  # "ship to us" is a pronoun
        if m.group("trig") in ("in", "en", "au", "aux", "à", "para", "für", "fuer") and \
                _before(_NOT_BUYER, st.low, m.start()):
            continue  # "made in Italy" states an origin
        if st.free(m.start(), m.end()):
            st.add(Found(m.start(), m.end(), "country", (names[name],), True))
            return
    for m in _DEMONYM.finditer(st.low):
        if st.free(m.start(), m.end()):
            st.add(Found(m.start(), m.end(), "country", (demonyms()[m.group("d")],), True))
            return


# ---------------------------------------------------------------- vendors
def _vendors(st: QueryState, cv: CompiledVocabulary) -> None:
    shouting = st.s.isupper()
    i = 0
    while i < len(st.words):
        hits = cv.vendors.match(st.words, i) if st.word_free(i) else []
        if not hits:
            i += 1
            continue
        n, name = hits[0]
        a, b = st.spans[i][0], st.spans[i + n - 1][1]
        surface = st.s[a:b]
        vtoks = tuple(st.words[i:i + n])
        common = all(t in COMMON_WORDS for t in vtoks)
        capitalised = surface[:1].isupper() and (i > 0 or (surface.isupper() and len(surface) > 1)) and not shouting
        if name in cv.skip_vendors or (common and not capitalised) or not st.free(a, b):
            i += 1
            continue
        # A brand written as a name ("Sony", "JURA") is a requirement; "makita hedge trimmer" in lower case is
        # ranking evidence only (the word stays in the text either way).
        hard = any(c.isupper() for c in surface) and not shouting
        st.add(Found(a, b, "vendor", cv.vendor_family(name), False, hard=hard))
        i += n


# ---------------------------------------------------------------- phrase helpers
def _lex_index(forms: dict[str, str]) -> PhraseIndex:
    ix = PhraseIndex()
    for form in forms:
        ix.add(tuple(re.findall(r"\w+", form)), form)
    ix.freeze()
    return ix


_LEX = lexicon()
_COLOUR_IX = _lex_index({**_LEX.ambiguous_colours, **_LEX.plain_colours})
_MATERIAL_IX = _lex_index(_LEX.materials)
_PURITY_GOLD = re.compile(r"(?<![\w.])(?P<k>\d{1,2})\s?(?:k|kt|ct|carat|karat|quilates)\s+"
                          r"(?P<m>gold|oro|or|ouro|gelbgold|weißgold|white gold|yellow gold|rose gold)(?![\w])")
_COLOUR_CONTEXT_BEFORE = re.compile(r"(?:\bin|\ben|\bem|\bim|\bcolou?r|\bcolou?rs?\s*:|\bcolou?red|\bcor|\bcouleur|"
                                    r"\bfarbe|\bcolore)\s*[:\-]?\s*$")
_COLOUR_CONTEXT_AFTER = re.compile(r"[\s-]*(?:colou?r(?:ed|s)?|tone[sd]?|farben|farbig|couleur|cor)(?![\w])")


def _colour_context(st: QueryState, a: int, b: int) -> bool:
    before = st.low[max(0, a - 24):a]
    if _COLOUR_CONTEXT_BEFORE.search(before) or _COLOUR_CONTEXT_AFTER.match(st.low, b):
        return True
    # "black and gold": a colour list lends its context to the next word
    m = re.search(r"(\w+)\s*(?:and|or|&|/|y|et|und|e|ou|o)\s*$", before)
    return bool(m and _LEX.plain_colours.get(m.group(1)))


def _phrase_at(st: QueryState, ix: PhraseIndex, i: int) -> tuple[int, str] | None:
    hits = ix.match(st.words, i)
    if not hits:
        return None
    n, payload = hits[0]
    return (n, payload) if st.word_free(i, n) else None


# ---------------------------------------------------------------- materials
def _materials(st: QueryState, cv: CompiledVocabulary | None) -> None:
    for m in _PURITY_GOLD.finditer(st.low):
        if st.free(m.start(), m.end()):
            k = m.group("k")
            values = (f"{k}ct gold", f"{k}k gold", "gold")
            hard = cv is None or any(v in cv.material_all for v in values[:2])
            st.add(Found(m.start(), m.end(), "material", values, False, hard=hard))
    i = 0
    while i < len(st.words):
        vocab_got = _phrase_at(st, cv.material_phrases, i) if cv else None
        lex_got = _phrase_at(st, _MATERIAL_IX, i)
        got = max((g for g in (vocab_got, lex_got) if g), key=lambda g: g[0], default=None)
        if not got:
            i += 1
            continue
        n, form = got
        a, b = st.spans[i][0], st.spans[i + n - 1][1]
        canon = _LEX.materials.get(form)
        if canon in METALS:
            prev = st.words[i - 1] if i > 0 else ""
            nxt = st.words[i + n] if i + n < len(st.words) else ""
            made = prev in METAL_MATERIAL_BEFORE or nxt in METAL_MATERIAL_AFTER
            if not made and _colour_context(st, a, b):
                i += n
                continue  # "earbuds in gold": a colour, read by the colour pass
        if canon is None:
            values: tuple[str, ...] = (form,)
            own = values
        else:
            found = cv.material_values.get(canon, ()) if cv else ()
            own = (canon, *found)
            chosen = same_language(form, tuple(dict.fromkeys(found)))
            values = (*closest_first(form, tuple(dict.fromkeys((*chosen, canon)))), *MATERIAL_PARENTS.get(canon, ()))
            values = tuple(dict.fromkeys(values))
        # A material is a requirement when the catalog sells it as a variant option; a material only named in
        # product words ("organic cotton kurta") is evidence: a hard filter would drop products that omit the word.
        hard = cv is None or any(v in cv.material_all for v in own)
        st.add(Found(a, b, "material", values, False, hard=hard))
        i += n


# ---------------------------------------------------------------- sizes
_NUMR = r"\d+(?:[.,]\d+)?(?:\s?(?:\d[/⁄]\d)(?![\d/]))?"
_UNIT = (r"(?:inches|inch|in(?!\s+\w)|\"|”|″|''|feet|foot|ft|'|’|cm|mm|ml|fl\.?\s?oz|oz|ounces?|litres?|liters?|"
         r"ltr|l|qt|quarts?|gallons?|gal|kg|g|lbs?|pack|pk|pcs|pieces?|count|seater|tiers?|mah|w|v|gb|tb|cups?|km/h)")
_AGE_UNIT = r"(?:months?|meses|mois|monate|m|years?|yrs?|y|años|anos|ans|jahre|t)"
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
_COMPARE_BEFORE = re.compile(r"(?:under|below|over|above|less than|more than|up to|around|about|approx\.?|"
                             r"approximately|at least|at most|max|min|within|~|<|>|<=|>=|≤|≥|unter|über|moins de|"
                             r"plus de|menos de|más de|mais de|até)\s*$")
_COMPAT_BEFORE = re.compile(r"(?:for|fits?|fitting|compatible with|suitable for|para|pour|für)\s+"
                            r"(?:my|a|an|the|your|mi|mon|ma|meinen|meine|mein)?\s*$")


def _size_values(cv: CompiledVocabulary | None, surface: str) -> tuple[str, ...]:
    key = size_key(surface)
    if cv is None:
        return ()
    got = cv.size_by_key.get(key)
    if not got and (dim := dimension_key(key)):
        got = cv.size_by_dim.get(dim)
    return got or ()


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
            st.add(Found(m.start(), m.end(), "size", values or _fallback_size(m.group("v")), True))


_CLAUSE_START = re.compile(r"[,;(]\s*$")
_SIZE_ADJ_RX = re.compile(rf"(?<![\w])(?P<pre>(?:in|en|em|im)\s+)?(?P<v>{_alt(list(SIZE_ADJECTIVES))})(?![\w])")


def _size_adjectives(st: QueryState, cv: CompiledVocabulary | None) -> None:
    for m in _SIZE_ADJ_RX.finditer(st.low):
        if not st.free(m.start(), m.end()):
            continue
        ends_clause = re.match(r"\s*(?:$|[,.;!?)]|size\b|talla\b|taille\b)", st.low[m.end():]) is not None
        after_comma = _before(_CLAUSE_START, st.low, m.start())
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
        loose = _before(_COMPAT_BEFORE, st.low, m.start()) or _before(_COMPARE_BEFORE, st.low, m.start())
        if values and not loose:
            st.add(Found(m.start(), m.end(), "size", values, True))
        else:
            # "for my 40 oz quencher", "under 40 cm", "16 inches" with no such size: helps choose a variant only
            st.add(Found(m.start(), m.end(), "hint", (normalize_value(surface),), False))


# ---------------------------------------------------------------- colours
def _colours(st: QueryState, cv: CompiledVocabulary | None) -> None:
    i = 0
    while i < len(st.words):
        got = _phrase_at(st, cv.colour_phrases, i) if cv else None
        if got:
            n, value = got
            st.add(Found(st.spans[i][0], st.spans[i + n - 1][1], "color", (value,), True))
            i += n
            continue
        got = _phrase_at(st, _COLOUR_IX, i)
        if not got:
            i += 1
            continue
        n, form = got
        canon = _LEX.colour(form) or form
        a, b = st.spans[i][0], st.spans[i + n - 1][1]
        nxt = st.words[i + n] if i + n < len(st.words) else ""
        before = st.low[max(0, a - 16):a]
        i += n
        if nxt in COLOUR_BLOCKING_NEXT:
            continue  # "green tea", "white noise"
        if form not in _LEX.plain_colours and not _colour_context(st, a, b):
            continue  # "face cream", "olive oil", "charcoal soap"
        if any(before.rstrip().endswith(w) for w in LOOSE_COLOUR_BEFORE) or nxt in LOOSE_COLOUR_AFTER or \
                st.low[b:b + 3] == "ish":
            st.add(Found(a, b, "hint", (form,), False))  # "en tonos lila": a loose preference
            continue
        known = same_language(form, cv.colour_values.get(canon, ())) if cv else ()
        values = known or tuple(dict.fromkeys((canon, form)))
        st.add(Found(a, b, "color", values, True))


# ---------------------------------------------------------------- product types and option hints
_TYPE_CUE = re.compile(r"categor|catégorie|kategorie|type|department|section")
_TYPE_CUE_BEFORE = re.compile(r"(?:categor(?:y|ies|ía|ia)|catégorie|kategorie|product type|type)\s*[:=]?\s*(?:of\s+)?$")
_TYPE_CUE_AFTER = re.compile(r"\s*(?:category|categoría|categoria|catégorie|kategorie|department|section)(?![\w])")


_ARTICLES = frozenset({"a", "an", "the"})


def _phrases(st: QueryState, ix: PhraseIndex, kind: str, transform: bool) -> None:
    # articles are skipped so that "comes with a scarf" meets the option value "with scarf"
    keep = [k for k, w in enumerate(st.words) if w not in _ARTICLES]
    words = [singular(st.words[k]) if transform else st.words[k] for k in keep]
    i = 0
    while i < len(words):
        hits = ix.match(words, i)
        if not hits:
            i += 1
            continue
        n = hits[0][0]
        first, last = keep[i], keep[i + n - 1]
        a, b = st.spans[first][0], st.spans[last][1]
        if not st.free(a, b):
            i += 1
            continue
        if kind == "product_type" and not (_before(_TYPE_CUE_BEFORE, st.low, a) or _TYPE_CUE_AFTER.match(st.low, b)):
            # the engine filters on product type exactly, and merchants' types are too uneven ("closure",
            # "equipment") to read one from a plain noun: only "category: X" / "X category" count
            i += 1
            continue
        values = tuple(dict.fromkeys(p for _, p in hits)) if kind == "product_type" else (st.low[a:b],)
        st.add(Found(a, b, kind, values, False))
        i += n


def extract(st: QueryState, cv: CompiledVocabulary | None, default_currency: str) -> None:
    """Run every pass over ``st`` in order (see module docstring)."""
    _availability(st)
    _prices(st, cv, default_currency)
    _country(st)
    if cv is not None:
        _vendors(st, cv)
    _materials(st, cv)
    _named_sizes(st, cv)
    _sizes(st, cv)
    _colours(st, cv)
    _letter_sizes(st, cv)
    _size_adjectives(st, cv)
    _measurements(st, cv)
    if cv is not None:
        if _TYPE_CUE.search(st.low):
            _phrases(st, cv.types, "product_type", True)
        _phrases(st, cv.option_hints, "hint", False)
