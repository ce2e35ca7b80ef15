"""Fast JSON for the crawl path: :mod:`orjson` where it can, the standard library where it cannot.

The crawler parses every page and writes every product's source JSON; with the standard ``json``
module that was a fifth of a crawl's CPU time. orjson is 3-10x faster but stricter, so each function
falls back to ``json`` for what orjson refuses:

* :func:`loads` accepts what ``json.loads`` accepts (``NaN``, UTF-16/32 bodies, lone surrogate
  escapes) and raises ``ValueError`` for the rest, like ``json.loads``. Lone surrogates (``"\\ud800"``,
  which no UTF-8 store can hold) become U+FFFD, so one odd string cannot fail a whole page's write.
  Integers beyond 64 bits are read as floats (orjson's rule; no platform id comes near).
* :func:`dumps` writes compact UTF-8 JSON text (no spaces, non-ASCII kept). What orjson cannot
  write goes through ``json`` (ASCII-escaped); values that are not JSON types are written as
  ``str(value)``. ``NaN`` and infinities, which are not JSON, are written as ``null`` (orjson's rule),
  so stored text is always valid JSON.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

__all__ = ["dumps", "dumps_bytes", "loads"]


def loads(data: bytes | str) -> Any:
    """Parse a JSON document; ``ValueError`` when it is not one."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return _clean(json.loads(data))  # NaN, other encodings, lone surrogates; ValueError when invalid


def dumps_bytes(obj: Any) -> bytes:
    """Compact UTF-8 JSON of ``obj`` as bytes (see the module docstring)."""
    try:
        return orjson.dumps(obj)
    except TypeError:  # a type orjson does not write, an integer beyond 64 bits, a lone surrogate
        return json.dumps(_finite(obj), separators=(",", ":"), default=str).encode()


def dumps(obj: Any) -> str:
    """Compact JSON text of ``obj`` (see the module docstring)."""
    return dumps_bytes(obj).decode()


_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean(obj: Any) -> Any:
    """``obj`` with lone surrogates in its strings replaced by U+FFFD (only on the rare fallback path)."""
    if isinstance(obj, str):
        return _SURROGATE.sub("\ufffd", obj)
    if isinstance(obj, list):
        return [_clean(x) for x in obj]
    if isinstance(obj, dict):
        return {_clean(k): _clean(v) for k, v in obj.items()}
    return obj


def _finite(obj: Any) -> Any:
    """``obj`` with NaN and infinities as None, as orjson writes them (only on the rare fallback path)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, list | tuple):
        return [_finite(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    return obj
