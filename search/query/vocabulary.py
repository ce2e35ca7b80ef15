"""The catalog vocabulary compiled for query understanding: phrase indexes and size keys.

One public entry point, :func:`compile_vocabulary`, turns an index :class:`Vocabulary` (any object with
the fields of :class:`VocabularyLike`) into a :class:`CompiledVocabulary` once; results are cached per
vocabulary object, so parsing a query only does dictionary look-ups.

Size keys (:func:`size_key`) make spellings of one size compare equal: ``"size 7"``, ``"size-7"`` and
``"7"`` → ``7``; ``"M"``, ``"medium"`` → ``m``; ``"55 inch"``, ``'55"'``, ``"55 Inches"`` → ``55in``;
``"6-12 months"``, ``"6-12m"`` → ``6-12mo`` (``"6-12 meses"`` → ``6-12mes``: month words keep
their language); ``"10' x 12'"`` → ``10x12``. It is :func:`search.filter.keys.value_key`, the one
value key the filter and evaluation use too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from indexer.attributes import normalize_value, value_parts
from search.filter.keys import value_key
from search.query.lexicon import COMMON_WORDS, lexicon
from search.query.memo import IdentityCache

TOKEN = re.compile(r"\w+")
_CORE = frozenset({"color", "size", "material"})
_NO_HINT_ATTRS = frozenset({"title", "default", "cj default", "denominations", "donation amount", "please input"})


class VocabularyLike(Protocol):
    """The fields of the index's attribute vocabulary that query understanding reads."""

    @property
    def attributes(self) -> Mapping[str, Mapping[str, int]]: ...  # canonical attr -> normalised value -> count
    @property
    def option_names(self) -> Mapping[str, str]: ...  # normalised option name -> canonical attr
    @property
    def vendors(self) -> Mapping[str, int]: ...
    @property
    def product_types(self) -> Mapping[str, int]: ...
    @property
    def currencies(self) -> Mapping[str, int]: ...


_DIM_UNIT = re.compile(r"(?<=\d)(?:in|ft|cm|mm|m)(?=x|×|\*|$)")


def size_key(value: str) -> str:
    """Comparison key of a size value: the one value key of parser, filter and evaluation."""
    return value_key(value)


def dimension_key(key: str) -> str | None:
    """Unit-less form of a dimension key (``10ftx12ft`` → ``10x12``); None if the key is not a dimension."""
    if "x" not in key or not re.fullmatch(r"[\d.]+[a-z]*(?:x[\d.]+[a-z]*){1,2}", key):
        return None
    return _DIM_UNIT.sub("", key)


def singular(token: str) -> str:
    """Crude English singular for matching product types ("chainsaws" ↔ "chainsaw")."""
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 4 and token.endswith(("ches", "shes", "sses", "xes")):
        return token[:-2]
    if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def tokens(text: str) -> tuple[str, ...]:
    """Word tokens of already normalised text."""
    return tuple(TOKEN.findall(text))


@dataclass
class PhraseIndex:
    """Token sequences → payloads; :meth:`match` finds the longest sequence starting at a position."""

    by_first: dict[str, list[tuple[tuple[str, ...], str]]] = field(default_factory=dict)

    def add(self, toks: tuple[str, ...], payload: str) -> None:
        if toks:
            bucket = self.by_first.setdefault(toks[0], [])
            if (toks, payload) not in bucket:
                bucket.append((toks, payload))

    def freeze(self) -> None:
        for bucket in self.by_first.values():
            bucket.sort(key=lambda e: -len(e[0]))

    def match(self, words: list[str], i: int) -> list[tuple[int, str]]:
        """All payloads of the longest phrase starting at ``words[i]``: ``[(n_tokens, payload), ...]``."""
        best: list[tuple[int, str]] = []
        for toks, payload in self.by_first.get(words[i], ()):
            n = len(toks)
            if best and n < best[0][0]:
                break
            if tuple(words[i:i + n]) == toks:
                best.append((n, payload))
        return best


@dataclass
class CompiledVocabulary:
    """Look-up structures derived from one vocabulary."""

    colour_values: dict[str, tuple[str, ...]]  # lexicon canonical colour -> vocab values that denote it
    colour_phrases: PhraseIndex  # multi-word vocab colours holding a colour word ("piano black")
    material_values: dict[str, tuple[str, ...]]
    material_phrases: PhraseIndex  # multi-word vocab materials ("organic cotton filling")
    material_all: frozenset[str]  # every material value (and part) the catalog has
    size_by_key: dict[str, tuple[str, ...]]
    size_by_dim: dict[str, tuple[str, ...]]
    size_phrases: PhraseIndex
    vendors: PhraseIndex
    vendor_names: tuple[tuple[tuple[str, ...], str], ...]
    types: PhraseIndex  # singular tokens -> vocab product type
    option_hints: PhraseIndex
    currencies: frozenset[str]
    skip_vendors: frozenset[str]
    _families: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def vendor_family(self, name: str) -> tuple[str, ...]:
        """``name`` and every vendor that contains it as whole words ("stanley" → stanley, stanley 1913)."""
        got = self._families.get(name)
        if got is None:
            vt = tokens(name)
            n = len(vt)
            more = [full for toks, full in self.vendor_names
                    if full != name and any(toks[k:k + n] == vt for k in range(len(toks) - n + 1))]
            got = self._families[name] = (name, *dict.fromkeys(more))
        return got


def _parts(values: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for v in values:
        out.update(value_parts(v))
    return out


def _add_vendor_aliases(vendors: PhraseIndex, names: list[tuple[tuple[str, ...], str]]) -> None:
    """A multi-word vendor is also named by its distinctive first word ("bergwerk" → "Bergwerk Outdoor").

    Only a first word of 5+ letters that starts no other vendor, is no vendor itself and is no word the
    query reader knows (common shop words, colours, materials): "Black Diamond" gets no alias "black".
    """
    lx = lexicon()
    singles = {toks[0] for toks, _ in names if len(toks) == 1}
    firsts: dict[str, set[str]] = {}
    for toks, norm in names:
        if len(toks) >= 2:
            firsts.setdefault(toks[0], set()).add(norm)
    for first, full in firsts.items():
        if len(full) != 1 or first in singles or len(first) < 5 or not first.isalpha():
            continue
        if first in COMMON_WORDS or lx.colour(first) or first in lx.materials:
            continue
        vendors.add((first,), next(iter(full)))


def _colours(lx: Any, attrs: Mapping[str, Any]) -> tuple[dict[str, list[str]], PhraseIndex]:
    """Catalog colour values by lexicon colour, and the multi-word catalog colours as phrases."""
    colour_values: dict[str, list[str]] = {}
    colour_phrases = PhraseIndex()
    for value in sorted(_parts(attrs.get("color", {}))):
        canon = lx.colour(value)
        if canon:
            colour_values.setdefault(canon, []).append(value)
            continue
        toks = tokens(value)
        # a multi-word catalog colour ("piano black") needs a plain colour word: "coffee bean" is no colour
        if len(toks) >= 2 and any(t in lx.plain_colours for t in toks) and not any(t.isdigit() for t in toks):
            colour_phrases.add(toks, value)
    return colour_values, colour_phrases


def _materials(lx: Any, materials: set[str]) -> tuple[dict[str, list[str]], PhraseIndex]:
    """Catalog material values by lexicon material, and the other multi-word materials as phrases."""
    material_values: dict[str, list[str]] = {}
    material_phrases = PhraseIndex()
    for value in sorted(materials):
        canon = lx.materials.get(value)
        if canon:
            material_values.setdefault(canon, []).append(value)
        elif len(tokens(value)) >= 2:
            material_phrases.add(tokens(value), value)
    return material_values, material_phrases


def _sizes(attrs: Mapping[str, Any]) -> tuple[dict[str, list[str]], dict[str, list[str]], PhraseIndex]:
    """Catalog sizes by value key and by dimension key, and every size as a phrase."""
    size_by_key: dict[str, list[str]] = {}
    size_by_dim: dict[str, list[str]] = {}
    size_phrases = PhraseIndex()
    for value in sorted(_parts(attrs.get("size", {}))):
        key = size_key(value)
        size_by_key.setdefault(key, []).append(value)
        dim = dimension_key(key)
        if dim:
            size_by_dim.setdefault(dim, []).append(value)
        size_phrases.add(tokens(value), value)
    return size_by_key, size_by_dim, size_phrases


def _vendors(vendor_names: Iterable[str]) -> tuple[PhraseIndex, list[tuple[tuple[str, ...], str]]]:
    """Vendor phrases (with their distinctive-first-word aliases) and every vendor's tokens."""
    vendors = PhraseIndex()
    names: list[tuple[tuple[str, ...], str]] = []
    for name in vendor_names:
        norm = normalize_value(name)
        toks = tokens(norm)
        if toks:
            names.append((toks, norm))
        if len(norm) >= 3 and toks and not all(t.isdigit() for t in toks):
            vendors.add(toks, norm)
    _add_vendor_aliases(vendors, names)
    return vendors, names


def _types_and_hints(product_types: Iterable[str], attrs: Mapping[str, Any]) -> tuple[PhraseIndex, PhraseIndex]:
    """Product-type phrases, and the other option values that hint at a variant."""
    types = PhraseIndex()
    for t in product_types:
        toks = tuple(singular(x) for x in tokens(normalize_value(t)))
        if toks and (len(toks) > 1 or (len(toks[0]) >= 4 and toks[0] not in COMMON_WORDS)):
            types.add(toks, normalize_value(t))
    hints = PhraseIndex()
    for attr, values in attrs.items():
        if attr in _CORE or attr in _NO_HINT_ATTRS:
            continue
        for value in _parts(values):
            toks = tokens(value)
            if not toks or len(toks) > 4 or any(t.isdigit() for t in toks):
                continue
            if all(t in COMMON_WORDS or len(t) < 4 for t in toks):
                continue
            hints.add(toks, value)
    return types, hints


def _compile(v: VocabularyLike) -> CompiledVocabulary:
    lx = lexicon()
    attrs = v.attributes
    colour_values, colour_phrases = _colours(lx, attrs)
    materials = _parts(attrs.get("material", {}))
    material_values, material_phrases = _materials(lx, materials)
    size_by_key, size_by_dim, size_phrases = _sizes(attrs)
    vendors, names = _vendors(v.vendors)
    types, hints = _types_and_hints(v.product_types, attrs)
    for index in (colour_phrases, material_phrases, size_phrases, vendors, types, hints):
        index.freeze()
    merchant_names = getattr(v, "merchant_names", None) or ()
    return CompiledVocabulary(
        colour_values={k: tuple(x) for k, x in colour_values.items()},
        colour_phrases=colour_phrases,
        material_values={k: tuple(x) for k, x in material_values.items()},
        material_phrases=material_phrases,
        material_all=frozenset(materials),
        size_by_key={k: tuple(x) for k, x in size_by_key.items()},
        size_by_dim={k: tuple(x) for k, x in size_by_dim.items()},
        size_phrases=size_phrases,
        vendors=vendors,
        vendor_names=tuple(names),
        types=types,
        option_hints=hints,
        currencies=frozenset(str(c).upper() for c in v.currencies),
        skip_vendors=frozenset(normalize_value(str(m)) for m in merchant_names),
    )


_COMPILED: IdentityCache[CompiledVocabulary] = IdentityCache(8)


def compile_vocabulary(vocabulary: VocabularyLike) -> CompiledVocabulary:
    """The compiled form of ``vocabulary``, built on first use and cached (by object identity)."""
    return _COMPILED.get(vocabulary, lambda: _compile(vocabulary))
