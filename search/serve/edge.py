"""What every agent-facing adapter (HTTP, UCP facade, MCP) shares: the error mapping and merchant-text hygiene.

Errors
    :func:`error_for` is the one place that turns an exception into ``(HTTP status, code, message)``:
    an :class:`~indexer.errors.AisleError` keeps its own ``http_status`` and ``code``; a pydantic
    validation failure gets a specific code (``malformed_json``, ``unknown_filter``, ``unknown_field``,
    ``query_too_long``, ``limit_too_large``) or the generic ``invalid_request``; anything else is
    ``500 internal`` with a fixed message, so no stack trace or exception text reaches a client.

Merchant text
    :func:`clean_merchant_text` strips HTML (scripts and styles with their content), decodes entities
    and strips again (so ``&lt;script&gt;`` cannot come back as markup), and drops control characters,
    in the subtrees of a response that hold merchant-provided text. Responses also carry
    ``content_notice`` (see :data:`search.schema.MERCHANT_CONTENT_NOTICE`).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import ValidationError

from indexer.attributes import html_to_text
from indexer.errors import AisleError
from search.schema import (
    MAX_LIMIT,
    MAX_QUERY_CHARS,
    CheckRequest,
    CheckResponse,
    Filters,
    ProductOut,
    SearchRequest,
    SearchResponse,
)

log = logging.getLogger("aisle.api")

#: Keys whose string values (and, for ``options``, dict keys) are merchant-provided text.
MERCHANT_KEYS = frozenset({"title", "description", "vendor", "product_type", "tags", "name", "options", "label"})
#: Response subtrees that hold merchant data (the rest is the caller's own query or our metadata).
MERCHANT_ROOTS = frozenset({"results", "items", "checkouts", "products", "variants", "merchant"})

FILTER_NAMES: tuple[str, ...] = tuple(Filters.model_fields)
_TAG_OPEN = re.compile(r"<(?=[A-Za-z/!?])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


class SearchEngine(Protocol):
    """What the adapters need from :class:`search.engine.Engine` (kept structural so adapters stay thin)."""

    def search(self, request: SearchRequest) -> SearchResponse: ...
    def get_product(self, doc_id: str, country: str = "US") -> ProductOut: ...
    def check(self, request: CheckRequest) -> CheckResponse: ...
    def refresh(self) -> bool: ...
    @property
    def snapshot(self) -> Any: ...


@dataclass(frozen=True)
class EdgeError:
    """An error as every adapter reports it: HTTP status, machine-readable code, human message."""

    status: int
    code: str
    message: str
    details: list[dict[str, str]] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        """``{"error": {"code", "message"[, "details"]}}``: the aisle error envelope."""
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            err["details"] = self.details
        return {"error": err}


INTERNAL = EdgeError(500, "internal", "internal error; the request was not completed")


def _loc(loc: Iterable[Any]) -> list[str]:
    # FastAPI prefixes "body"/"query"/"path"; the caller knows only its own field names.
    parts = [str(p) for p in loc]
    return parts[1:] if parts and parts[0] in ("body", "query", "path", "header") else parts


def validation_error(errors: Sequence[Mapping[str, Any]]) -> EdgeError:
    """Map pydantic/FastAPI validation errors onto one specific code (most specific first).

    Only field paths, error types and pydantic's messages are reported, never the rejected values.
    """
    details = [
        {
            "field": ".".join(_loc(e.get("loc", ()))) or "body",
            "type": str(e.get("type", "")),
            "message": str(e.get("msg", "")),
        }
        for e in errors
    ]
    for e, d in zip(errors, details, strict=True):
        kind, path = d["type"], _loc(e.get("loc", ()))
        if kind == "json_invalid":
            return EdgeError(400, "malformed_json", "request body is not valid JSON", details)
        if kind == "extra_forbidden" and len(path) >= 2 and path[-2] == "filters":
            return EdgeError(
                400,
                "unknown_filter",
                f"unknown filter {path[-1]!r}; known filters: {', '.join(FILTER_NAMES)}",
                details,
            )
    for e, d in zip(errors, details, strict=True):
        kind, path = d["type"], _loc(e.get("loc", ()))
        last = path[-1] if path else ""
        if kind == "extra_forbidden":
            return EdgeError(400, "unknown_field", f"unknown field {d['field']!r}", details)
        if kind == "string_too_long" and last == "query":
            return EdgeError(400, "query_too_long", f"query is longer than {MAX_QUERY_CHARS} characters", details)
        if kind == "less_than_equal" and last == "limit":
            most = (e.get("ctx") or {}).get("le", MAX_LIMIT)
            return EdgeError(400, "limit_too_large", f"limit must be at most {most}", details)
    first = details[0] if details else {"field": "body", "message": "invalid request"}
    return EdgeError(422, "invalid_request", f"{first['field']}: {first['message']}", details)


def error_for(exc: BaseException) -> EdgeError:
    """The one mapping from an exception to what a client sees."""
    if isinstance(exc, AisleError):
        return EdgeError(exc.http_status, exc.code, exc.message)
    if isinstance(exc, ValidationError):
        return validation_error(exc.errors(include_url=False, include_input=False))
    return INTERNAL


def plain_text(value: str) -> str:
    """Merchant text as plain text: no tags (even entity-encoded ones), no scripts, no control characters."""
    if "<" not in value and "&" not in value:
        return _CONTROL.sub("", value)
    text = value
    for _ in range(3):  # decode-and-strip until stable: "&amp;lt;b&amp;gt;" needs two rounds
        cleaned = html_to_text(text)
        if cleaned == text:
            break
        text = cleaned
    # A "<" that could still open a tag ("<b", "</", "<!") becomes a look-alike; "size < 5" stays as it is.
    return _CONTROL.sub("", _TAG_OPEN.sub("‹", text))


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


class SnapshotWatcher:
    """Background thread that moves the engine to a newly current snapshot (hot swap).

    Every ``interval`` seconds it calls ``engine.refresh()`` (cheap when nothing changed: the engine
    compares the CURRENT pointer). Loading a new snapshot happens here, off the request path; requests
    keep the snapshot they started with because the engine hands each call one snapshot object.

    A new snapshot that fails to load (damaged) is recorded in ``last_error`` and the engine keeps
    serving what it has. With ``pointer`` (a function reading the CURRENT pointer) the watcher also
    remembers a pointer value that did not load and does not retry it every interval (the engine would
    otherwise re-read the damaged files, and its fallback, each time) until the pointer changes again.
    """

    def __init__(
        self, engine: SearchEngine, interval: float = 1.0, *, pointer: Callable[[], str | None] | None = None
    ) -> None:
        self.engine = engine
        self.interval = interval
        self.pointer = pointer
        self.swaps = 0
        self.last_error: str | None = None
        self._refused: str | None = None  # a pointer value that did not load
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check_now(self) -> bool:
        """One refresh; True when the engine moved to a new snapshot."""
        wanted = self.pointer() if self.pointer is not None else None
        if self.pointer is not None and (wanted is None or wanted == self._refused):
            return False  # no pointer (nothing to move to) or one already found damaged
        try:
            swapped = bool(self.engine.refresh())
        except Exception as exc:  # a bad new snapshot must not take the server down
            self.last_error = f"{type(exc).__name__}: {exc}"
            self._refused = wanted
            log.warning("snapshot refresh failed, still serving the previous snapshot: %s", self.last_error)
            return False
        serving = getattr(self.engine.snapshot, "version", None)
        if swapped:
            self.swaps += 1
            log.info("switched to snapshot %s", serving)
        if wanted is not None and serving != wanted:
            # The engine fell back (the current snapshot is damaged): remember it, do not reload each time.
            self._refused = wanted
            self.last_error = f"snapshot {wanted} could not be loaded; serving {serving}"
            log.warning(self.last_error)
        elif swapped or wanted is not None:
            self.last_error = None
            self._refused = None
        return swapped

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.check_now()

    def start(self) -> None:
        """Start watching (no-op when ``interval`` <= 0)."""
        if self.interval > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="aisle-snapshot-watcher", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop watching and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None


def limit_native_threads(threads: int = 1) -> None:
    """Cap the BLAS and OpenMP thread pools of this process at ``threads`` (0 or less: leave them alone).

    Why: a server runs many searches at once, each doing small matrix products (exact dense scoring,
    BM25 arrays, FAISS). With the default pools (one thread per core) concurrent requests oversubscribe
    the cores and OpenBLAS threads spin against each other; measured on the shared catalogs with 16
    concurrent searches, QPS fell from about 300 to about 12. With one native thread per request the
    parallelism comes from the requests themselves (see docs/benchmarks.md, "Query API").
    """
    if threads <= 0:
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # threadpoolctl comes with scikit-learn (sentence-transformers); env is the fallback
        import os

        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, str(threads))
        return
    threadpool_limits(limits=threads)
