"""A handler's answer before faults are applied (the simulator's one response shape)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from indexer.storefront.catalog import dumps

JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"


@dataclass
class Reply:
    """Status, body and headers; ``faultable`` marks JSON data endpoints, ``dup`` gives the previous page."""

    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)
    faultable: bool = False
    dup: Callable[[], bytes] | None = None


def json_reply(status: int, obj: object, *, faultable: bool = False) -> Reply:
    """A JSON reply from a JSON-able object."""
    return Reply(status, dumps(obj), faultable=faultable)


def html_page(title: str, body: str) -> bytes:
    """A minimal storefront-looking HTML page."""
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{title}</title></head><body>{body}</body></html>"
    ).encode()
