"""From the engine's records to the response models: results, products, pages, and the cursor between pages.

* :mod:`search.answer.records`: domain records → response models (merchant text as plain text, URLs by policy);
* :mod:`search.answer.present`: the order of an answer (``sort``, ``buyable_first``, "cheapest", preferences),
  facets, explanations and highlights;
* :mod:`search.answer.cursor`: the signed pagination cursor.

Every public name of the first and last is importable from here (``from search.answer import result_out``).
"""

from __future__ import annotations

from search.answer.cursor import CURSOR_KEY_FILE, cursor_key, decode_cursor, encode_cursor, request_hash
from search.answer.records import (
    buy_out,
    images_out,
    merchant_out,
    product_out,
    product_url,
    result_out,
    variant_out,
)

__all__ = ["CURSOR_KEY_FILE", "buy_out", "cursor_key", "decode_cursor", "encode_cursor", "images_out",
           "merchant_out", "product_out", "product_url", "request_hash", "result_out", "variant_out"]
