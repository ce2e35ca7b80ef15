"""A product naming the kind asked for only as a modifier of another kind ("Mobility Scooter Battery" for a
mobility scooter) comes after the products of that kind (search.retrieval.floor.modifiers_last; issue 11)."""

from __future__ import annotations

import numpy as np

from indexer.build.lexical import tokenize
from search.engine import Engine
from search.retrieval.floor import kind_phrase, main_terms, modifier_only, modifiers_last
from search.schema import SearchRequest
from search.settings import EngineSettings
from tests.search.conftest import make_engine, merchant, product, variant

VOCAB = frozenset(tokenize("battery dryer cover pump scooter sofa chair dress hat backpack cooler trimmer mujer"))


def _mod(query: str, title: str) -> bool:
    kind = kind_phrase(query)
    assert kind is not None
    return modifier_only(kind, title, VOCAB, frozenset(tokenize(query)))


def test_the_last_word_of_the_main_phrase_is_what_the_product_is() -> None:
    assert _mod("mobility scooter", "Mobility Scooter Battery")
    assert _mod("mobility scooter", "Mobility Scooter Cover - Waterproof, Black")
    assert _mod("breast pump", "Hotpoint 9kg Heat Pump Tumble Dryer White")
    assert not _mod("mobility scooter", "4 Wheel Mobility Scooter - Electric Powered")
    assert not _mod("mobility scooter", "Folding Mobility Scooter Red")  # a trailing colour is skipped
    assert not _mod("mobility scooter", "Mobility Scooter Bundle")  # a collection of the kind is the kind
    assert not _mod("breast pump", "Oregon Chai Port Pump")
    assert not _mod("mobility scooter", "Troy-Bilt Pony")  # holds no kind word at all


def test_words_of_the_query_and_head_initial_titles_are_left_alone() -> None:
    assert not _mod("a cooler I can wear like a backpack", "Soft Cooler Backpack")  # "backpack" is asked for
    assert not _mod("hedge trimmer cordless", "Makita Cordless Hedge Trimmer")
    assert not _mod("t-shirt", "Camiseta de algodón para mujer")  # the main phrase ends before "de"


def test_modifiers_move_behind_within_the_window_english_titles_only() -> None:
    kind = kind_phrase("mobility scooter")
    assert kind is not None
    titles = {0: "Mobility Scooter Battery", 1: "Folding Mobility Scooter", 2: "Mobility Scooter Cover",
              3: "Mobility Scooter Charger"}
    order = [(r, 1.0 - r / 10, True) for r in range(4)]

    def terms(row: int) -> tuple[str, ...]:
        return main_terms(titles[row])

    vocab = VOCAB | frozenset(tokenize("charger"))
    rows = [o[0] for o in modifiers_last(order, kind, terms, None, vocab, frozenset(), 3)]
    assert rows == [1, 0, 2, 3]  # the window is 3: the charger at 4th place stays where it was
    lang = np.array([1, 0, 0, 0], dtype=np.uint8)  # row 0 is not English: not judged by English word order
    mixed = [order[0], order[2], order[1], order[3]]
    rows = [o[0] for o in modifiers_last(mixed, kind, terms, lang, vocab, frozenset(), 4)]
    assert rows == [0, 1, 2, 3]  # row 0 stays first; the cover and the charger move behind the scooter
    code = kind_phrase("toro 37807")
    assert code is not None
    assert modifiers_last(order, code, lambda r: main_terms("Toro Snow Blower"), None, vocab, frozenset(), 4) == order


def _engine(window: int) -> Engine:
    m = merchant()
    items = [product("Mobility Scooter Battery", [variant({}, price=7650, vid="b")], m=m, pid="1"),
             product("Folding Mobility Scooter for travel and everyday trips", [variant({}, price=31500, vid="s")],
                     m=m, pid="2"),
             product("Lightweight Mobility Scooter with long range and a comfortable seat",
                     [variant({}, price=45000, vid="t")], m=m, pid="3")]
    return make_engine(items, [m], settings=EngineSettings(stale_ttl_s=None, modifier_window=window))


def test_the_engine_answers_scooters_before_the_scooter_battery_in_every_mode() -> None:
    for mode in ("bm25", "dense", "hybrid"):
        titles = [r.title for r in _engine(50).search(SearchRequest(query="mobility scooter", mode=mode)).results]
        assert titles[-1] == "Mobility Scooter Battery", (mode, titles)
    off = [r.title for r in _engine(0).search(SearchRequest(query="mobility scooter", mode="bm25")).results]
    assert off[0] == "Mobility Scooter Battery"  # the short title wins BM25 without the rule
