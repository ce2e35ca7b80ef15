"""Text analysis for BM25, per language: the tokenizer, stop words and Snowball stemmers.

Two analysers exist; a snapshot records which one built its BM25 (``tokenizer`` in the manifest's
``lexical`` entry and in ``lexical/rows.json``), and queries are analysed with the same one:

* ``aisle-v1`` (snapshots built before per-language analysis): every text analysed as English.
* ``aisle-v2-lang`` (:data:`ANALYSER`, the default): each product is analysed in its language
  (:mod:`indexer.build.language`: en, es, pt, fr, de, ro), a query in English plus the language its words
  point to. A product in another language keeps every ``aisle-v1`` term and adds, per word, a *tagged*
  stem in its language (``zapatos`` → ``zapato`` and ``es:zapat``); the tagged terms do not count in the
  document's length (:mod:`indexer.build.lexical`). So an English query scores every product exactly as
  with ``aisle-v1`` (same terms, document frequencies and lengths), brands and codes match as before in
  every language, and a query read as Spanish matches ``es:`` stems in Spanish products only: a Spanish
  stem of an English word (``tape`` → ``es:tap``) never hits an English product (``tap``).

Tokenizer (:func:`tokenize`, documents and queries alike):

* NFKC, lower case, accents folded (``café`` → ``cafe``: merchants and shoppers disagree on them),
  possessive ``'s`` dropped, other apostrophes removed (``don't`` → ``dont``).
* A raw token is a run of letters/digits, possibly joined by ``-``, ``_``, ``.``, ``/``
  (``XL-200``, ``T17100``, ``2.5``, ``vertical_49_slat``, ``red/white``).
* A plain word is dropped if it is one of Lucene's 33 English stop words or a single letter, and
  otherwise stemmed (Snowball English, PyStemmer): ``shoes`` → ``shoe``. In a text of another language
  (or a query read in one) a word of at least :data:`MIN_STEM` letters that is not one of that language's
  stop words also yields its tagged stem in that language (``rojas`` → ``roja``, ``es:roj``).
* A token holding a digit is a *code* and is kept whole and unstemmed (``t17100``, ``xl-200``,
  ``500ml``), plus its letter/digit runs (``500ml`` → ``500``, ``ml``) so that ``500 ml`` matches.
  Brands, sizes and model numbers therefore match exactly in every language.
* A joined token (``-`` or ``_``) also yields its parts and its concatenation: ``XL-200`` →
  ``xl-200``, ``xl200``, ``xl``, ``200``; ``T-shirt`` → ``tshirt``, ``shirt``.

:func:`analyse` gives, per emitted token, its variants in several languages at once (a query's English
and detected-language stems of the same word), which is how one query word counts once in the share of
query words a product explains.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import bm25s
import Stemmer

V1 = "aisle-v1"
ANALYSER = "aisle-v2-lang"
ANALYSERS = (V1, ANALYSER)
LANGUAGES = ("en", "es", "pt", "fr", "de", "ro")  # the order of the per-language arrays in a snapshot
MIN_STEM = 4

_TOKEN = re.compile(r"[^\W_]+(?:[-_./][^\W_]+)*")
_CONNECTOR = re.compile(r"[-_./]")
_RUNS = re.compile(r"[^\W\d_]+|\d+")
_POSSESSIVE = re.compile(r"['’]s\b")
_APOSTROPHE = re.compile(r"['’`´]")
_MARKS = re.compile(r"[™®©℠]")  # NFKC would turn "Cut™" into "cuttm"
_STEMMERS = {"en": "english", "es": "spanish", "pt": "portuguese", "fr": "french", "de": "german",
             "ro": "romanian"}
_ROMANIAN_STOP = (  # Snowball ships none for Romanian; the common function words, folded
    "si sau dar ca ce cu de din la in pe pentru prin spre sub fara dupa pana despre intre un una unei unui "
    "niste cel cea cei cele al ale ai lui lor este sunt fi fost era care cine acest aceasta aceste acesti "
    "acel acea sa se nu mai foarte tot toate toti sunt iar ori daca cand unde cum le il o ne va vor am ati au")


def fold(text: str) -> str:
    """NFKC, lower case, accents folded, possessive ``'s`` and apostrophes removed."""
    text = unicodedata.normalize("NFKC", _MARKS.sub(" ", text)).lower()
    decomposed = unicodedata.normalize("NFKD", text)
    if decomposed != text:  # only pay the filtering when there are accents
        text = unicodedata.normalize("NFKC", "".join(c for c in decomposed if not unicodedata.combining(c)))
    text = _POSSESSIVE.sub("", text)
    return _APOSTROPHE.sub("", text)


def _folded(words: Sequence[str]) -> frozenset[str]:
    return frozenset(fold(w) for w in words)


STOP_EN = frozenset(bm25s.stopwords.STOPWORDS_EN)
STOPWORDS: dict[str, frozenset[str]] = {
    "en": STOP_EN,
    "es": _folded(bm25s.stopwords.STOPWORDS_SPANISH),
    "pt": _folded(bm25s.stopwords.STOPWORDS_PORTUGUESE),
    "fr": _folded(bm25s.stopwords.STOPWORDS_FRENCH),
    "de": _folded(bm25s.stopwords.STOPWORDS_GERMAN),
    "ro": frozenset(_ROMANIAN_STOP.split()),
}
_stemmers: dict[str, Stemmer.Stemmer] = {}
_cache: dict[tuple[str, str], str] = {}


def stem(word: str, lang: str = "en") -> str:
    """``word`` (folded, plain letters) stemmed in ``lang`` with Snowball."""
    key = (lang, word)
    out = _cache.get(key)
    if out is None:
        stemmer = _stemmers.get(lang)
        if stemmer is None:
            stemmer = _stemmers[lang] = Stemmer.Stemmer(_STEMMERS[lang])
        out = stemmer.stemWord(word)
        if len(_cache) < 500_000:
            _cache[key] = out
    return out


def tagged(word: str, lang: str) -> str | None:
    """The tagged ``lang`` stem of a plain ``word`` (``es:zapat``), None for English, short or stop words."""
    if lang == "en" or len(word) < MIN_STEM or word in STOPWORDS[lang]:
        return None
    return f"{lang}:{stem(word, lang)}"


def _word(part: str, langs: Sequence[str], out: list[tuple[str, ...]]) -> None:
    """A part without connectors: a code (has a digit) or a plain word."""
    if any(c.isdigit() for c in part):
        out.append((part,))
        runs = _RUNS.findall(part)
        if len(runs) > 1:
            for run in runs:
                _word(run, langs, out)
    elif len(part) > 1 and part not in STOP_EN:
        extra = [t for t in (tagged(part, lang) for lang in langs) if t]
        out.append((stem(part), *extra))


def analyse(text: str, langs: Sequence[str] = ()) -> list[tuple[str, ...]]:
    """The tokens of ``text``, each as its English (``aisle-v1``) term followed by its tagged stems in the
    other languages ``langs`` (English is always first and needs no naming)."""
    others = [lang for lang in langs if lang != "en"]
    out: list[tuple[str, ...]] = []
    for token in _TOKEN.findall(fold(text)):
        if not _CONNECTOR.search(token):
            _word(token, others, out)
            continue
        if any(c.isdigit() for c in token):
            out.append((token,))
        if "-" in token or "_" in token:
            joined = re.sub(r"[-_]", "", token)
            if any(c.isdigit() for c in joined):
                out.append((joined,))
            else:
                _word(joined, others, out)
        for part in _CONNECTOR.split(token):
            if part:
                _word(part, others, out)
    return out


def tokenize(text: str, lang: str = "en") -> list[str]:
    """Index terms of ``text`` written in ``lang`` (see the module docstring; English: ``aisle-v1``'s)."""
    return [t for group in analyse(text, (lang,)) for t in group]


def is_tagged(term: str) -> bool:
    """Whether ``term`` is a tagged language stem (it does not count in a document's length)."""
    return ":" in term
