"""What to crawl: :class:`Target` (a Shopify store URL or an Etsy shop id) and the merchants file.

Merchants file (``aisle crawl --merchants FILE``), one merchant per line, ``#`` starts a comment,
blank lines are ignored. Each line is either JSON or text:

* JSON lines: ``{"platform": "shopify", "url": "https://store.example"}``,
  ``{"platform": "etsy", "shop_id": 12345678}``, or the short forms ``{"shopify": "https://..."}`` and
  ``{"etsy": 12345678}``.
* Text lines: ``shopify https://store.example``, ``etsy 12345678``, or just a URL (a Shopify store)
  or just a number (an Etsy shop id).
* Identity links: a JSON line may add ``"merchant_id": "northfield-knits.myshopify.com"``. The operator
  vouches that this URL is that merchant: a store that moved keeps its merchant record (see
  :mod:`indexer.store.identity`; without the entry, a second URL claiming a known id is refused), and a
  store at that URL claiming any other id is refused.

Duplicates (same platform and normalised reference) are dropped, first occurrence kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from indexer.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Target:
    """One merchant to crawl: ``shopify`` + store URL, or ``etsy`` + shop id (as text)."""

    platform: Literal["shopify", "etsy"]
    ref: str
    merchant_id: str | None = None  # the operator's identity link (merchants file), None: none given

    @classmethod
    def shopify(cls, url: str) -> Target:
        """A Shopify store by URL (``https://`` assumed when no scheme is given)."""
        u = url.strip().rstrip("/")
        if "://" not in u:
            u = "https://" + u
        try:
            parts = urlsplit(u)
            host = parts.hostname
        except ValueError:  # e.g. a garbled IPv6 literal
            host = None
        if host is None or parts.scheme not in ("http", "https"):
            raise ConfigError(f"not a store URL: {url!r} (expected e.g. https://store.example)")
        return cls("shopify", u)

    @classmethod
    def etsy(cls, shop_id: str | int) -> Target:
        """An Etsy shop by numeric shop id."""
        s = str(shop_id).strip()
        if not s.isdigit():
            raise ConfigError(f"not an Etsy shop id: {shop_id!r} (expected a number such as 12345678)")
        return cls("etsy", str(int(s)))

    @property
    def label(self) -> str:
        """Human-readable name used in errors and reports before the merchant is known."""
        return self.ref if self.platform == "shopify" else f"etsy:{self.ref}"


def _from_json(obj: Any, where: str) -> Target:
    if not isinstance(obj, dict):
        raise ConfigError(f"{where}: expected a JSON object")
    link = obj.get("merchant_id")
    if link is not None:
        if not isinstance(link, str | int) or isinstance(link, bool) or not str(link).strip():
            raise ConfigError(f"{where}: merchant_id must be a merchant id such as 'shop.myshopify.com'")
        bare = _from_json({k: v for k, v in obj.items() if k != "merchant_id"}, where)
        return replace(bare, merchant_id=str(link).strip())
    if "shopify" in obj:
        return Target.shopify(str(obj["shopify"]))
    if "etsy" in obj:
        return Target.etsy(obj["etsy"])
    platform = str(obj.get("platform") or "").lower()
    if platform == "shopify" and obj.get("url"):
        return Target.shopify(str(obj["url"]))
    if platform == "etsy" and obj.get("shop_id") is not None:
        return Target.etsy(obj["shop_id"])
    raise ConfigError(f"{where}: need {{'platform': 'shopify', 'url': ...}} or {{'platform': 'etsy', 'shop_id': ...}}")


def parse_line(line: str, where: str = "merchants file") -> Target | None:
    """One merchants-file line → Target (None for blank/comment lines); ConfigError with ``where``."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    try:
        if text.startswith("{"):
            try:
                return _from_json(json.loads(text), where)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{where}: bad JSON: {exc.msg}") from None
        text = text.split(" #", 1)[0].strip()
        words = text.split()
        if len(words) == 2 and words[0].lower() in ("shopify", "etsy"):
            return Target.shopify(words[1]) if words[0].lower() == "shopify" else Target.etsy(words[1])
        if len(words) == 1:
            return Target.etsy(words[0]) if words[0].isdigit() else Target.shopify(words[0])
    except ConfigError as exc:
        raise ConfigError(exc.message if exc.message.startswith(where) else f"{where}: {exc.message}") from None
    raise ConfigError(f"{where}: cannot read {line.strip()!r} (see `aisle crawl --help` for the format)")


def load_targets(path: str | Path) -> list[Target]:
    """Read a merchants file (format in the module docstring)."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read merchants file {p}: {exc.strerror or exc}") from None
    found = [parse_line(line, f"{p}:{n}") for n, line in enumerate(lines, 1)]
    return dedupe(t for t in found if t is not None)


def dedupe(targets: Iterable[Target]) -> list[Target]:
    """Targets without repeats, first occurrence kept."""
    out: dict[tuple[str, str], Target] = {}
    for t in targets:
        out.setdefault((t.platform, t.ref.lower()), t)
    return list(out.values())
