"""Merchant text hygiene of response payloads: the last step before a response leaves any surface.

The rules live in :mod:`indexer.sanitise` (one sanitiser, built on a real HTML parser); this module
decides *where* in a payload they apply. :func:`clean_merchant_text` walks a JSON-like response and
passes every string under a merchant-text key (:data:`MERCHANT_KEYS`, dict keys of ``options``
included) inside a merchant subtree (:data:`MERCHANT_ROOTS`) through
:func:`indexer.sanitise.plain_text`; the caller's own query, ids, URLs, codes and our metadata are
left as they are. :func:`sanitised` does it for a response model.

Where each surface applies it (once, at its edge):

* HTTP ``/v1/search``, ``/v1/products/{id}``, ``/v1/checkout/check`` (:mod:`search.serve.http`) and
  the MCP tools (:mod:`search.serve.mcp`; also ``aisle mcp`` over stdio): :func:`sanitised` on the
  engine's response model;
* UCP ``/ucp/catalog/search`` (:mod:`search.serve.ucp`): :func:`clean_merchant_text` on the products;
* the ACP feed (:mod:`search.serve.acp`), built from snapshot records rather than response models:
  :func:`indexer.sanitise.plain_text` on each merchant field as it is mapped;
* the CLI (``aisle search``, ``aisle demo``): :func:`sanitised` before printing.

The engine's response models are already built from sanitised strings (:mod:`search.answer`), so this
pass normally changes nothing; it is the edge's guarantee, independent of how a response was built,
and cheap on clean text (strings with no ``<`` or ``&`` skip the parser). Responses also carry
``content_notice`` (see :data:`search.schema.MERCHANT_CONTENT_NOTICE`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from indexer.sanitise import plain_text

#: Keys whose string values (and, for ``options``, dict keys) are merchant-provided text.
MERCHANT_KEYS = frozenset(
    {"title", "description", "vendor", "product_type", "tags", "name", "options", "label", "sku", "categories"}
)
#: Response subtrees that hold merchant data (the rest is the caller's own query or our metadata).
MERCHANT_ROOTS = frozenset({"results", "items", "checkouts", "products", "variants", "merchant"})


def _clean_all(value: Any) -> Any:
    if isinstance(value, str):
        return plain_text(value)
    if isinstance(value, list):
        return [_clean_all(v) for v in value]
    if isinstance(value, dict):
        return {plain_text(k): _clean_all(v) for k, v in value.items()}
    return value


def clean_merchant_text(data: Any, *, inside: bool = False) -> Any:
    """A copy of a JSON-like response with the merchant-text fields in its merchant subtrees made plain text.

    ``inside=True`` treats the whole value as merchant data (e.g. a product).
    """
    if isinstance(data, list):
        return [clean_merchant_text(v, inside=inside) for v in data]
    if not isinstance(data, dict):
        return data
    out: dict[str, Any] = {}
    for key, value in data.items():
        if inside and key in MERCHANT_KEYS:
            out[key] = _clean_all(value)
        else:
            out[key] = clean_merchant_text(value, inside=inside or key in MERCHANT_ROOTS)
    return out


def sanitised(model: BaseModel, *, inside: bool = False) -> dict[str, Any]:
    """``model`` as JSON-ready data with its merchant text made plain (see :func:`clean_merchant_text`)."""
    out: dict[str, Any] = clean_merchant_text(model.model_dump(mode="json"), inside=inside)
    return out
