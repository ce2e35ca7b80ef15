"""The state of one query being read, and spelling helpers shared by the extraction passes.

One public entry point, :class:`QueryState` (with :class:`Found`, the piece a pass extracts); the
helpers :func:`before`, :func:`alternation`, :func:`closest_first` and :func:`same_language` are
small functions the passes share.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from indexer.attributes import normalize_value
from search.query.lexicon import lexicon


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



def before(rx: re.Pattern[str], text: str, pos: int, window: int = 48) -> bool:
    """Does ``rx`` (anchored with ``$``) match the text just before ``pos``? Bounded, so long input stays linear."""
    return rx.search(text, max(0, pos - window), pos) is not None


def alternation(items: list[str]) -> str:
    """A regex alternation of literal ``items``, longest first (so "ring size" wins over "size")."""
    return "|".join(re.escape(x) for x in sorted(set(items), key=len, reverse=True))


def closest_first(surface: str, values: tuple[str, ...]) -> tuple[str, ...]:
    """``values`` with those spelled most like ``surface`` first ("negra" → negro before black)."""
    s = normalize_value(surface)
    order = {v: k for k, v in enumerate(values)}
    return tuple(sorted(values, key=lambda v: (v != s, -len(os.path.commonprefix([s, v])), order[v])))


def same_language(surface: str, values: tuple[str, ...], *, fallback: bool = True) -> tuple[str, ...]:
    """The catalog spellings of one colour/material to accept for a shopper's word.

    English word → the catalog's English spellings; another language → that word's own forms
    ("negra" → negro) plus the English ones ("black"), not the third languages' ("preto"). When the
    catalog has none of those, every spelling it has (a Spanish-only store still answers "black"),
    unless ``fallback`` is False (then nothing).
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
    return closest_first(surface, tuple(dict.fromkeys(keep)) or (values if fallback else ()))

