"""indexer.jsontext: orjson speed, the standard library's leniency where orjson refuses."""

from __future__ import annotations

import json
import math

import pytest

from indexer.jsontext import dumps, dumps_bytes, loads


def test_round_trip_is_compact_utf8() -> None:
    doc = {"title": "Été ☕", "n": [1, 2.5, None, True], "nested": {"k": "v"}}
    assert dumps(doc) == '{"title":"Été ☕","n":[1,2.5,null,true],"nested":{"k":"v"}}'
    assert dumps_bytes(doc) == dumps(doc).encode()
    assert loads(dumps_bytes(doc)) == doc == loads(dumps(doc))


def test_what_orjson_refuses_is_still_read() -> None:
    assert math.isnan(loads(b'{"a": NaN}')["a"])
    assert loads('"x\\ud800y"') == "x\ufffdy"  # a lone surrogate cannot be stored as UTF-8
    assert loads('{"k\\udfff": ["\\ud83d\\ude00"]}') == {"k\ufffd": ["\U0001F600"]}  # pairs stay intact
    assert loads(json.dumps({"a": 1}).encode("utf-16")) == {"a": 1}
    for bad in (b"", b"{", b"<html>", b"[1,]"):
        with pytest.raises(ValueError):
            loads(bad)


def test_what_orjson_cannot_write_is_still_written_as_json() -> None:
    assert json.loads(dumps({"big": 2**70, "nan": float("nan")})) == {"big": 2**70, "nan": None}
    assert dumps({"s": {1}}) == '{"s":"{1}"}'  # not a JSON type: its text
    assert json.loads(dumps(["\ud800"])) == ["\ud800"]  # escaped, so the text stays valid UTF-8
    assert dumps(float("inf")) == "null"
